// The contract every Storage backend passes: a value-parameterized gtest suite over backend factories.
//
// A backend registers itself with one line in a test source linked with storage_contract.cpp:
//
//   INSTANTIATE_TEST_SUITE_P(S3, StorageContractTest,
//                            ::testing::Values(StorageBackend{"s3", &OpenS3ForTest}), BackendName);
//
// `open` is called once per test and must return a store that is empty (a fresh bucket or key prefix), or
// nullptr when the backend cannot be reached (the test then fails with that name). `scratch_dir` is a fresh
// empty directory the backend may use for its files (the filesystem root, LocalPath downloads); it is removed
// after the test.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "storage/storage.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::storage::contract {

struct StorageBackend {
  std::string name;  // [A-Za-z0-9_]: becomes part of the test names
  std::function<std::unique_ptr<Storage>(const std::string& scratch_dir)> open;
};

// gtest prints parameters in failure messages; without this it would dump the std::function's bytes.
inline void PrintTo(const StorageBackend& backend, std::ostream* os) { *os << backend.name; }

// Names instantiated tests after the backend ("File/StorageContractTest.RoundTrip/file").
struct BackendName {
  std::string operator()(const ::testing::TestParamInfo<StorageBackend>& info) const { return info.param.name; }
};

class StorageContractTest : public ::testing::TestWithParam<StorageBackend> {
 protected:
  void SetUp() override;

  Storage& store() { return *storage_; }
  // A directory for LocalPath copies, separate from the backend's own scratch directory.
  std::string local_dir() const { return local_.path().string(); }

 private:
  facefleet::testing::TempDir scratch_;
  facefleet::testing::TempDir local_;
  std::unique_ptr<Storage> storage_;
};

}  // namespace facefleet::storage::contract
