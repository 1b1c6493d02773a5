// BoundedQueue: a closeable multi-producer/multi-consumer FIFO with a fixed capacity, for the pipeline stages.
//
// Push blocks while the queue is full and Pop while it is empty, so a fast producer cannot run ahead of a slow
// consumer by more than `capacity` items: this is what bounds the video pipeline's memory. Both give up when
// the queue is closed or the caller's stop token fires. Thread safety: every method may be called from any
// thread at once.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>
#include <utility>

namespace facefleet::core {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Appends `item`, waiting for room. Returns false (dropping the item) when the queue is closed or `stop`
  // fires first.
  bool Push(T item, std::stop_token stop = {}) {
    std::unique_lock lock(mutex_);
    if (!not_full_.wait(lock, stop, [&] { return closed_ || items_.size() < capacity_; }) || closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Removes the oldest item, waiting for one. Returns nullopt when `stop` fires, or when the queue is closed
  // and drained (items pushed before Close are still delivered).
  std::optional<T> Pop(std::stop_token stop = {}) {
    std::unique_lock lock(mutex_);
    if (!not_empty_.wait(lock, stop, [&] { return closed_ || !items_.empty(); }) || items_.empty()) {
      return std::nullopt;
    }
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  // No more pushes; waiting producers fail and consumers drain what is left. Idempotent.
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable_any not_full_;
  std::condition_variable_any not_empty_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace facefleet::core
