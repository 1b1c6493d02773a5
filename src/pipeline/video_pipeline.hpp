// The streaming video pipeline: reader thread -> [in-order analysis] -> N frame workers -> reorder -> writer.
//
//   reader ─raw─► analysis (detect on keyframes, track, interpolate, smooth; in order)
//          ─input─► worker × N (SwapFaces on its own frame) ─output─► reorder + writer (caller)
//
// The analysis stage runs when the tracker interval is above 1 or landmark smoothing is on (face_tracker.hpp
// has its design); otherwise the reader feeds the workers directly and each worker also detects on its frame.
// A null swapper (--face-swapper-model none) makes the pipeline a plain transcode: the reader feeds the writer
// directly, with the decoder's frames unconverted (VideoReader::ReadRaw) unless they need rotating or padding.
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
#include <vector>

#include "facefleet/engine.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"
#include "pipeline/engine_impl.hpp"

namespace facefleet::pipeline {

struct VideoPipelineOptions {
  int workers = 0;                  // frame workers; 0 = one per hardware thread
  int window = 0;                   // frames in flight; 0 = 4 per worker
  std::int64_t max_frames = -1;     // kLimitExceeded when the reader yields more (-1 = no limit)
  int tracker_interval = 1;         // detector on every N-th frame (and the last); frames between interpolated
  bool landmark_smoothing = false;  // One-Euro filter on each tracked face's landmarks (in order)
  double fps = 25;                  // the source rate: the smoothing filter's time step is 1 / fps
  // Called with the faces given to SwapFaces for each frame: on the analysis thread in frame order when that
  // stage runs, else on the workers (concurrently, in any order). For tests and diagnostics; must not block.
  std::function<void(std::int64_t frame, const std::vector<Face>& faces)> on_faces;
};

struct VideoRunStats {
  std::int64_t frames = 0;  // frames written (source frames)
  int target_faces = 0;     // faces detected over all frames
  int swapped_faces = 0;
};

// Runs the pipeline to the end of `reader`'s range. Does not call writer.Finish() (the caller does, on
// success). kCanceled when `stop` fired; otherwise the first error of any stage. `progress`, when set, is
// called on the calling thread after each written frame.
Result<VideoRunStats> RunVideoPipeline(const FrameSwapper* swapper, media::VideoReader& reader,
                                       media::VideoWriter& writer, const VideoPipelineOptions& options,
                                       std::stop_token stop, const std::function<void(const Progress&)>& progress);

}  // namespace facefleet::pipeline
