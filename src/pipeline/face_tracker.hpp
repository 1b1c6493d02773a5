// Temporal stability for videos: a keyframe face tracker and a One-Euro landmark filter.
//
// Design (see docs/architecture.md, "Video"): the video pipeline's frame workers finish out of order, so all
// temporal state lives in one in-order analysis stage that runs before the workers:
//
//   reader ─► analysis (in order) ─► worker × N (SwapFaces only) ─► reorder ─► writer
//
// The analysis stage runs the detector on keyframes only (every `interval` frames, and always on the last
// frame) and holds the frames between two keyframes (at most `interval` - 1) until the next keyframe's faces
// are known; those frames get faces interpolated linearly (box, 5 and 68 landmarks) between the surrounding
// detections. Faces are matched from keyframe to keyframe by IoU (greedy, best overlap first). A face the
// detector misses on a keyframe is carried ("coasted") at its last position for up to `kMaxCoast` keyframes,
// so one miss does not drop the swap for a whole interval; when the face is found again, the frames between
// are interpolated from the coasted position. Memory: the look-ahead holds at most `interval` frames, counted
// in the pipeline's window of frames in flight.
//
// None of these classes is thread-safe; each belongs to the single analysis thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "facefleet/types.hpp"

namespace facefleet::pipeline {

// Intersection over union of two boxes (0 when either is empty).
float BoxIou(const Box& a, const Box& b);

// Linear interpolation of every coordinate of two faces (box, landmarks, score): t = 0 gives `a`, 1 gives `b`.
// has_landmark68 is taken from `a` and `b` together (both must have them).
Face LerpFace(const Face& a, const Face& b, float t);

// Greedy IoU matching: pairs (i, j) of previous[i] and current[j] with IoU >= min_iou, best pairs first, each
// index used at most once. Returns, for each current face, the matched previous index or -1.
std::vector<int> MatchByIou(std::span<const Box> previous, std::span<const Box> current, float min_iou);

// A face with a track identity that stays the same from frame to frame while the face is tracked.
struct TrackedFace {
  int track_id = 0;
  Face face;
};

// Assigns track ids to keyframe detections and interpolates faces for the frames between keyframes.
class FaceTracker {
 public:
  static constexpr float kMinIou = 0.3F;  // a smaller overlap between keyframes starts a new track
  static constexpr int kMaxCoast = 1;     // keyframes a missed face is carried at its last position

  // The faces of keyframe `frame` (frames must increase from call to call): detections matched to the
  // previous keyframe's tracks (new ids for unmatched ones) plus coasted tracks the detector missed.
  std::vector<TrackedFace> AddKeyframe(std::int64_t frame, std::vector<Face> detections);

  // Faces at `frame`, strictly between the last two keyframes added: tracks present on both are
  // interpolated; tracks that end or start at the later keyframe are not shown (a new face appears at its
  // first detection, a lost one disappears after its last coasted keyframe).
  std::vector<TrackedFace> Between(std::int64_t frame) const;

 private:
  struct Track {
    TrackedFace current;
    int misses = 0;  // consecutive keyframes without a detection
  };
  std::int64_t previous_frame_ = -1;
  std::int64_t current_frame_ = -1;
  std::vector<TrackedFace> previous_;  // the keyframe before the last one
  std::vector<Track> tracks_;          // the last keyframe's faces
  int next_id_ = 0;
};

// One-Euro filter (Casiez, Roussel, Vogel, CHI 2012) on one scalar: a low-pass filter whose cutoff rises with
// the signal's speed, so a still landmark is smoothed hard (no jitter) and a moving one follows with little
// lag. For each sample x at time step dt (seconds):
//   alpha(fc) = 1 / (1 + 1 / (2π fc dt))
//   dx̂ = dx̂ + alpha(d_cutoff) (dx - dx̂),  dx = (x - x̂_prev) / dt
//   fc = min_cutoff + beta |dx̂|
//   x̂ = x̂_prev + alpha(fc) (x - x̂_prev)
// The first sample passes unchanged (x̂ = x, dx̂ = 0).
class OneEuroFilter {
 public:
  OneEuroFilter(double min_cutoff, double beta, double d_cutoff)
      : min_cutoff_(min_cutoff), beta_(beta), d_cutoff_(d_cutoff) {}
  double Filter(double x, double dt);

 private:
  double min_cutoff_, beta_, d_cutoff_;
  bool primed_ = false;
  double x_hat_ = 0, dx_hat_ = 0;
};

// Smooths landmarks per track: one OneEuroFilter per track per coordinate of the 68 and 5 points. Constants
// for landmarks in pixels at video rates: min cutoff 1.0 Hz (a still face is held steady against sub-pixel to
// 2-px detector noise), beta 0.05 per px/s (at 100 px/s of motion the cutoff rises to 6 Hz, so a moving face
// lags by well under a frame's motion), derivative cutoff 1.0 Hz. Tracks not seen in a frame are forgotten.
class LandmarkSmoother {
 public:
  static constexpr double kMinCutoffHz = 1.0;
  static constexpr double kBeta = 0.05;
  static constexpr double kDerivativeCutoffHz = 1.0;

  explicit LandmarkSmoother(double fps) : dt_(fps > 0 ? 1.0 / fps : 1.0 / 25) {}
  // Replaces each face's landmarks (68 when present, and 5) by their filtered values, in place.
  void Smooth(std::vector<TrackedFace>& faces);

 private:
  struct State {
    int track_id = 0;
    std::vector<OneEuroFilter> filters;  // x, y of 68 points, then of 5 points
  };
  double dt_;
  std::vector<State> states_;
};

// The jitter metric: mean over consecutive frame pairs of the mean Euclidean motion (px) of corresponding
// points. Frames with a different point count from their predecessor are skipped; 0 with fewer than 2.
double MeanLandmarkMotion(std::span<const std::vector<Point2>> frames);

}  // namespace facefleet::pipeline
