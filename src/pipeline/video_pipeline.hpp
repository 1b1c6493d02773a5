// The streaming video pipeline: reader thread -> N frame workers -> reorder by frame index -> writer.
//
//   reader ──input queue──► worker × N (Detect + SwapFaces on its own frame) ──output queue──► writer (caller)
//
// Memory is bounded by a window of frames in flight (read but not yet written), so it does not depend on the
// video's length: the reader waits for a slot, the writer frees one per frame written, and the reorder buffer
// can never hold more than the window. Frames are written in index order whatever order workers finish in.
// Cancellation: `stop` (or the first error) stops every stage; the writer is then left unfinished, which
// removes its temporary file.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>

#include "facefleet/engine.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"
#include "pipeline/engine_impl.hpp"

namespace facefleet::pipeline {

struct VideoPipelineOptions {
  int workers = 0;               // frame workers; 0 = one per hardware thread
  int window = 0;                // frames in flight; 0 = 4 per worker
  std::int64_t max_frames = -1;  // kLimitExceeded when the reader yields more (-1 = no limit)
};

struct VideoRunStats {
  std::int64_t frames = 0;  // frames written (source frames)
  int target_faces = 0;     // faces detected over all frames
  int swapped_faces = 0;
};

// Runs the pipeline to the end of `reader`'s range. Does not call writer.Finish() (the caller does, on
// success). kCanceled when `stop` fired; otherwise the first error of any stage. `progress`, when set, is
// called on the calling thread after each written frame.
Result<VideoRunStats> RunVideoPipeline(const FrameSwapper& swapper, media::VideoReader& reader,
                                       media::VideoWriter& writer, const VideoPipelineOptions& options,
                                       std::stop_token stop, const std::function<void(const Progress&)>& progress);

}  // namespace facefleet::pipeline
