#include "pipeline/video_pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/bounded_queue.hpp"
#include "pipeline/face_tracker.hpp"

namespace facefleet::pipeline {
namespace {

struct IndexedFrame {
  std::int64_t index = 0;
  cv::Mat bgr;
  media::RawFrame raw;  // instead of `bgr` on the transcode path (no swapper): the decoder's own frame
  std::optional<std::vector<Face>> faces;  // set by the analysis stage; unset: the worker detects
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

// Decodes frames into `input` (raw: without the conversion to BGR) and closes it at the end.
void ReadFrames(media::VideoReader& reader, const VideoPipelineOptions& options, bool raw, Window& window,
                core::BoundedQueue<IndexedFrame>& input, Shared& shared) {
  const std::stop_token stop = shared.abort.get_token();
  std::int64_t count = 0;
  while (window.Acquire(stop)) {
    IndexedFrame frame;
    auto more = raw ? reader.ReadRaw(frame.raw, frame.index) : reader.Read(frame.bgr, frame.index);
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

// The in-order analysis stage (face_tracker.hpp): detects on keyframes, interpolates the frames held
// between them, smooths landmarks, and forwards every frame in order with its faces.
class Analysis {
 public:
  Analysis(const FrameSwapper& swapper, const VideoPipelineOptions& options, core::BoundedQueue<IndexedFrame>& out,
           Shared& shared)
      : swapper_(swapper), options_(options), out_(out), shared_(shared), smoother_(options.fps) {}

  void Run(core::BoundedQueue<IndexedFrame>& in) {
    const std::stop_token stop = shared_.abort.get_token();
    std::optional<std::int64_t> first;
    while (auto frame = in.Pop(stop)) {
      if (!first) first = frame->index;
      if ((frame->index - *first) % options_.tracker_interval != 0) {
        held_.push_back(std::move(*frame));  // at most interval - 1 frames
        continue;
      }
      if (!Keyframe(std::move(*frame), stop)) return;
    }
    if (!held_.empty() && !stop.stop_requested()) {  // the last frame is always a keyframe
      IndexedFrame last = std::move(held_.back());
      held_.pop_back();
      if (!Keyframe(std::move(last), stop)) return;
    }
    out_.Close();
  }

 private:
  bool Keyframe(IndexedFrame key, std::stop_token stop) {
    auto detected = swapper_.Detect(key.bgr);
    if (!detected.ok()) {
      shared_.Fail(detected.status());
      return false;
    }
    std::vector<TrackedFace> key_faces = tracker_.AddKeyframe(key.index, std::move(*detected));
    for (IndexedFrame& frame : held_) {
      std::vector<TrackedFace> between = tracker_.Between(frame.index);
      if (!Emit(std::move(frame), std::move(between), stop)) return false;
    }
    held_.clear();
    return Emit(std::move(key), std::move(key_faces), stop);
  }

  bool Emit(IndexedFrame frame, std::vector<TrackedFace> tracked, std::stop_token stop) {
    if (options_.landmark_smoothing) smoother_.Smooth(tracked);
    std::vector<Face> faces;
    faces.reserve(tracked.size());
    for (const TrackedFace& t : tracked) faces.push_back(t.face);
    if (options_.on_faces) options_.on_faces(frame.index, faces);
    frame.faces = std::move(faces);
    return out_.Push(std::move(frame), stop);
  }

  const FrameSwapper& swapper_;
  const VideoPipelineOptions& options_;
  core::BoundedQueue<IndexedFrame>& out_;
  Shared& shared_;
  FaceTracker tracker_;
  LandmarkSmoother smoother_;
  std::vector<IndexedFrame> held_;  // frames since the last keyframe, waiting for the next one
};

// A frame worker: detects when the analysis stage did not, then swaps (`swapper` is not null).
void SwapFrames(const FrameSwapper& swapper, const VideoPipelineOptions& options,
                core::BoundedQueue<IndexedFrame>& input, core::BoundedQueue<IndexedFrame>& output, Shared& shared) {
  const std::stop_token stop = shared.abort.get_token();
  while (auto frame = input.Pop(stop)) {
    if (!frame->faces) {
      auto detected = swapper.Detect(frame->bgr);
      if (!detected.ok()) {
        shared.Fail(detected.status());
        return;
      }
      frame->faces = std::move(*detected);
      if (options.on_faces) options.on_faces(frame->index, *frame->faces);
    }
    shared.target_faces += static_cast<int>(frame->faces->size());
    auto swapped = swapper.SwapFaces(frame->bgr, std::move(*frame->faces));
    // kUsage: the reference position names a face this frame does not have; the frame is kept as it is.
    if (!swapped.ok() && swapped.status().code() != ErrorCode::kUsage) {
      shared.Fail(swapped.status());
      return;
    }
    if (swapped.ok()) shared.swapped_faces += *swapped;
    if (!output.Push(std::move(*frame), stop)) return;
  }
}

// The writer (the calling thread): frames from `output` in index order, one window slot freed per frame.
std::int64_t WriteInOrder(media::VideoReader& reader, media::VideoWriter& writer, Window& window,
                          core::BoundedQueue<IndexedFrame>& output, Shared& shared,
                          const std::function<void(const Progress&)>& progress) {
  std::int64_t written = 0;
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t total = reader.end_frame() - reader.first_frame();
  std::map<std::int64_t, IndexedFrame> pending;  // the reorder buffer; at most the window's size
  std::int64_t next = reader.first_frame();
  const std::stop_token abort = shared.abort.get_token();
  while (auto frame = output.Pop(abort)) {
    const std::int64_t index = frame->index;
    pending.emplace(index, std::move(*frame));
    for (auto it = pending.begin(); it != pending.end() && it->first == next; it = pending.erase(it), ++next) {
      IndexedFrame& f = it->second;
      if (Status st = f.raw ? writer.WriteRaw(f.raw.get()) : writer.Write(f.bgr); !st.ok()) {
        shared.Fail(st);
        return written;
      }
      window.Release();
      ++written;
      if (progress) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        progress({written, std::max(total, written), elapsed > 0 ? written / elapsed : 0, elapsed});
      }
    }
  }
  return written;
}

}  // namespace

Result<VideoRunStats> RunVideoPipeline(const FrameSwapper* swapper, media::VideoReader& reader,
                                       media::VideoWriter& writer, const VideoPipelineOptions& options,
                                       std::stop_token stop, const std::function<void(const Progress&)>& progress) {
  const int workers = options.workers > 0 ? options.workers : std::max(1U, std::thread::hardware_concurrency());
  const bool analyse = swapper != nullptr && (options.tracker_interval > 1 || options.landmark_smoothing);
  // Transcode only: the reader feeds the writer directly, with decoded frames as they are when the writer can
  // take them (upright, even size), so no frame is converted to BGR and back.
  const media::VideoInfo& info = reader.info();
  const bool raw = swapper == nullptr && info.rotation == 0 && info.width % 2 == 0 && info.height % 2 == 0;
  // The analysis stage holds up to interval - 1 frames for its look-ahead: the window must leave room for
  // them and for the keyframe that releases them, or the reader would wait forever.
  const int held = analyse ? std::max(1, options.tracker_interval) : 0;
  const int window_size = std::max(options.window > 0 ? options.window : 4 * workers, held + workers + 1);
  Shared shared;
  const std::stop_callback forward(stop, [&] { shared.abort.request_stop(); });
  Window window(window_size);
  core::BoundedQueue<IndexedFrame> raw_queue(static_cast<std::size_t>(workers));
  core::BoundedQueue<IndexedFrame> input(static_cast<std::size_t>(workers));
  core::BoundedQueue<IndexedFrame> output(static_cast<std::size_t>(window_size));
  core::BoundedQueue<IndexedFrame>& first = swapper == nullptr ? output : analyse ? raw_queue : input;
  std::atomic<int> active{workers};
  std::vector<std::jthread> threads;
  threads.emplace_back([&] { ReadFrames(reader, options, raw, window, first, shared); });
  if (analyse) {
    threads.emplace_back([&] { Analysis(*swapper, options, input, shared).Run(raw_queue); });
  }
  for (int i = 0; swapper != nullptr && i < workers; ++i) {
    threads.emplace_back([&] {
      SwapFrames(*swapper, options, input, output, shared);
      if (--active == 0) output.Close();  // the last worker out ends the writer's loop
    });
  }
  VideoRunStats stats;
  stats.frames = WriteInOrder(reader, writer, window, output, shared, progress);
  shared.abort.request_stop();  // whatever ended the loop, release every stage still waiting
  raw_queue.Close();
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
