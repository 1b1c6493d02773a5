#include "pipeline/video_pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/bounded_queue.hpp"

namespace facefleet::pipeline {
namespace {

struct IndexedFrame {
  std::int64_t index = 0;
  cv::Mat bgr;
};

// Counts frames in flight; Acquire waits while `capacity` are out. Thread-safe.
class Window {
 public:
  explicit Window(int capacity) : capacity_(capacity) {}
  bool Acquire(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait(lock, stop, [&] { return in_flight_ < capacity_; })) return false;
    ++in_flight_;
    return true;
  }
  void Release() {
    std::lock_guard lock(mutex_);
    --in_flight_;
    cv_.notify_one();
  }

 private:
  const int capacity_;
  int in_flight_ = 0;
  std::mutex mutex_;
  std::condition_variable_any cv_;
};

// State shared by the stages. The first error wins and stops everything.
struct Shared {
  std::stop_source abort;
  std::mutex mutex;
  Status error;
  std::atomic<int> target_faces{0};
  std::atomic<int> swapped_faces{0};

  void Fail(Status status) {
    {
      std::lock_guard lock(mutex);
      if (error.ok()) error = std::move(status);
    }
    abort.request_stop();
  }
};

void ReadFrames(media::VideoReader& reader, const VideoPipelineOptions& options, Window& window,
                core::BoundedQueue<IndexedFrame>& input, Shared& shared) {
  const std::stop_token stop = shared.abort.get_token();
  std::int64_t count = 0;
  while (window.Acquire(stop)) {
    IndexedFrame frame;
    auto more = reader.Read(frame.bgr, frame.index);
    if (!more.ok()) {
      shared.Fail(more.status());
      break;
    }
    if (!*more) break;
    if (options.max_frames >= 0 && ++count > options.max_frames) {
      shared.Fail({ErrorCode::kLimitExceeded, "video has more than " + std::to_string(options.max_frames) +
                                                  " frames to swap (--max-video-frames)"});
      break;
    }
    if (!input.Push(std::move(frame), stop)) break;
  }
  input.Close();
}

void SwapFrames(const FrameSwapper& swapper, core::BoundedQueue<IndexedFrame>& input,
                core::BoundedQueue<IndexedFrame>& output, Shared& shared) {
  const std::stop_token stop = shared.abort.get_token();
  while (auto frame = input.Pop(stop)) {
    auto faces = swapper.Detect(frame->bgr);
    if (!faces.ok()) {
      shared.Fail(faces.status());
      return;
    }
    shared.target_faces += static_cast<int>(faces->size());
    auto swapped = swapper.SwapFaces(frame->bgr, std::move(*faces));
    // kUsage: the reference position names a face this frame does not have; the frame is kept as it is.
    if (!swapped.ok() && swapped.status().code() != ErrorCode::kUsage) {
      shared.Fail(swapped.status());
      return;
    }
    if (swapped.ok()) shared.swapped_faces += *swapped;
    if (!output.Push(std::move(*frame), stop)) return;
  }
}

}  // namespace

Result<VideoRunStats> RunVideoPipeline(const FrameSwapper& swapper, media::VideoReader& reader,
                                       media::VideoWriter& writer, const VideoPipelineOptions& options,
                                       std::stop_token stop, const std::function<void(const Progress&)>& progress) {
  const int workers = options.workers > 0 ? options.workers : std::max(1U, std::thread::hardware_concurrency());
  const int window_size = options.window > 0 ? options.window : 4 * workers;
  Shared shared;
  const std::stop_callback forward(stop, [&] { shared.abort.request_stop(); });
  Window window(window_size);
  core::BoundedQueue<IndexedFrame> input(static_cast<std::size_t>(workers));
  core::BoundedQueue<IndexedFrame> output(static_cast<std::size_t>(window_size));
  std::atomic<int> active{workers};
  std::vector<std::jthread> threads;
  threads.emplace_back([&] { ReadFrames(reader, options, window, input, shared); });
  for (int i = 0; i < workers; ++i) {
    threads.emplace_back([&] {
      SwapFrames(swapper, input, output, shared);
      if (--active == 0) output.Close();  // the last worker out ends the writer's loop
    });
  }
  VideoRunStats stats;
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t total = reader.end_frame() - reader.first_frame();
  std::map<std::int64_t, cv::Mat> pending;  // the reorder buffer; at most `window_size` frames
  std::int64_t next = reader.first_frame();
  const std::stop_token abort = shared.abort.get_token();
  while (auto frame = output.Pop(abort)) {
    pending.emplace(frame->index, std::move(frame->bgr));
    for (auto it = pending.begin(); it != pending.end() && it->first == next; it = pending.erase(it), ++next) {
      if (Status written = writer.Write(it->second); !written.ok()) {
        shared.Fail(written);
        break;
      }
      window.Release();
      ++stats.frames;
      if (progress) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        progress({stats.frames, std::max(total, stats.frames), elapsed > 0 ? stats.frames / elapsed : 0, elapsed});
      }
    }
  }
  shared.abort.request_stop();  // whatever ended the loop, release every stage still waiting
  input.Close();
  output.Close();
  threads.clear();  // joins
  if (!shared.error.ok()) return shared.error;
  if (stop.stop_requested()) {
    return Status(ErrorCode::kCanceled, "canceled after " + std::to_string(stats.frames) + " frames");
  }
  stats.target_faces = shared.target_faces;
  stats.swapped_faces = shared.swapped_faces;
  return stats;
}

}  // namespace facefleet::pipeline
