// Runs the Storage contract against the filesystem backend (both with and without fsync).
#include "storage/storage_contract.hpp"

namespace facefleet::storage::contract {
namespace {

std::unique_ptr<Storage> OpenFiles(const std::string& scratch_dir, bool sync) {
  Result<std::unique_ptr<Storage>> storage = OpenFileStorage({.root = scratch_dir + "/root", .sync = sync});
  if (!storage.ok()) {
    ADD_FAILURE() << storage.status().ToString();
    return nullptr;
  }
  return std::move(storage).value();
}

INSTANTIATE_TEST_SUITE_P(
    File, StorageContractTest,
    ::testing::Values(StorageBackend{"file", [](const std::string& dir) { return OpenFiles(dir, true); }},
                      StorageBackend{"file_nosync", [](const std::string& dir) { return OpenFiles(dir, false); }}),
    BackendName());

}  // namespace
}  // namespace facefleet::storage::contract
