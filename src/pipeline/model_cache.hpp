// Models loaded on first use and shared afterwards (by every swap and every worker thread).
//
// Thread-safe. A load happens under the cache's own lock, so two threads asking for the same model load it
// once; loads are rare (once per model per process), lookups take the lock only briefly.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "facefleet/status.hpp"

namespace facefleet::pipeline {

class ModelCache {
 public:
  // The cached object for `key`, or the result of `load()` stored under `key` when it succeeds (failures
  // are not cached, so a model installed later is picked up).
  template <typename T>
  Result<std::shared_ptr<const T>> Get(const std::string& key,
                                       const std::function<Result<std::unique_ptr<T>>()>& load) {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end()) return std::static_pointer_cast<const T>(it->second);
    auto loaded = load();
    if (!loaded.ok()) return loaded.status();
    std::shared_ptr<const T> shared(std::move(*loaded));
    entries_[key] = shared;
    return shared;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const void>> entries_;  // guarded by mutex_
};

}  // namespace facefleet::pipeline
