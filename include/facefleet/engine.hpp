// facefleet/engine.hpp — the face-swap engine.
//
// An Engine owns the loaded models (immutable after Create) and runs swaps. It is safe to call every const
// method from several threads at once: per-call state lives on the caller's stack, and the few model
// objects that are not re-entrant are handed out from an internal pool, not guarded by one global lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <vector>

#include "facefleet/options.hpp"
#include "facefleet/status.hpp"
#include "facefleet/types.hpp"

namespace facefleet {

// Wall time per pipeline stage of one swap, in milliseconds (for benchmarks and logs).
struct StageTimings {
  double decode_ms = 0;
  double detect_ms = 0;
  double landmark_ms = 0;
  double embed_ms = 0;  // recognizer (neural swappers)
  double warp_ms = 0;   // classic: warp + colour; neural: align + swapper model
  double blend_ms = 0;
  double enhance_ms = 0;
  double encode_ms = 0;
};

struct SwapReport {
  int target_faces = 0;           // faces found in the target (video: summed over all frames)
  int swapped_faces = 0;          // faces replaced (video: summed over all frames)
  StageTimings timings;           // images only
  std::int64_t video_frames = 0;  // video: source frames swapped and written
  bool video_truncated = false;   // video: the target ended early (cut off or corrupt); the frames that decoded
                                  // were swapped and written, and a warning was logged
};

// Progress of a video swap, reported after each frame written.
struct Progress {
  std::int64_t frames_done = 0;
  std::int64_t frames_total = 0;  // from the container (an estimate for some files); >= frames_done
  double fps = 0;                 // frames per second so far
  double elapsed_s = 0;
};

class Engine {
 public:
  // Checks the model files named by `options` and fails with kModelUnavailable naming a missing one. The
  // classic shape predictor (~1 s to load) is loaded on first use, so a run without face analysis never waits
  // for it; an invalid file is reported (kModelUnavailable) by the first call that needs it.
  static Result<std::unique_ptr<Engine>> Create(const EngineOptions& options);

  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Detects faces with landmarks (68 and 5 points) in `image`, in detector order.
  Result<std::vector<Face>> Analyze(const Image& image) const;

  // Swaps the identity from `sources` into `target` according to `options` (paths in options are ignored).
  // Fails with kNoFace when a source or the target has no face. `report`, when given, receives counts and
  // timings.
  Result<Image> Swap(std::span<const Image> sources, const Image& target, const SwapOptions& options,
                     SwapReport* report = nullptr) const;

  // Cheap checks before any model work, for fast failure (the CLI before loading, the service before
  // queueing): option ranges, every input exists and is a readable file, the output can be written.
  static Status CheckSwapFiles(const SwapOptions& options);

  // Reads options.source_paths and options.target_path, swaps, and writes options.output_path atomically
  // (a temporary file in the same directory, then rename): the output is either complete or absent.
  // The output path is checked before any work so a bad path fails fast.
  // A target that is a video by content (not by name) goes to SwapVideo; the output extension must then be
  // .mp4 .mov .mkv or .webm (kUsage otherwise, and for an image target with a video extension).
  Result<SwapReport> SwapFiles(const SwapOptions& options) const;

  // Swaps every frame of the video options.target_path (streamed: decode -> swap on worker threads -> encode,
  // memory independent of the length) into options.output_path, written atomically; the source's audio is
  // kept, trimmed with the video. `stop` cancels (kCanceled, no output left); `progress` is called after each
  // frame written, from the calling thread. Frames without a face are written unchanged.
  Result<SwapReport> SwapVideo(const SwapOptions& options, std::stop_token stop = {},
                               const std::function<void(const Progress&)>& progress = {}) const;

  // The implementation, for facefleet's own pipelines (video, service) built on the same loaded models. Its
  // definition is internal (src/pipeline/engine_impl.hpp); applications have no use for it.
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace facefleet
