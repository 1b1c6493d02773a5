#include "pipeline/face_tracker.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <tuple>

namespace facefleet::pipeline {
namespace {

Point2 Lerp(Point2 a, Point2 b, float t) { return {a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t}; }

const TrackedFace* FindTrack(std::span<const TrackedFace> faces, int id) {
  for (const TrackedFace& f : faces) {
    if (f.track_id == id) return &f;
  }
  return nullptr;
}

}  // namespace

float BoxIou(const Box& a, const Box& b) {
  const float w = std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x);
  const float h = std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const float inter = w * h;
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}

Face LerpFace(const Face& a, const Face& b, float t) {
  Face f;
  f.box = {a.box.x + (b.box.x - a.box.x) * t, a.box.y + (b.box.y - a.box.y) * t,
           a.box.width + (b.box.width - a.box.width) * t, a.box.height + (b.box.height - a.box.height) * t};
  f.score = a.score + (b.score - a.score) * t;
  for (std::size_t i = 0; i < f.landmark5.size(); ++i) f.landmark5[i] = Lerp(a.landmark5[i], b.landmark5[i], t);
  f.has_landmark68 = a.has_landmark68 && b.has_landmark68;
  if (f.has_landmark68) {
    for (std::size_t i = 0; i < f.landmark68.size(); ++i) f.landmark68[i] = Lerp(a.landmark68[i], b.landmark68[i], t);
  }
  return f;
}

std::vector<int> MatchByIou(std::span<const Box> previous, std::span<const Box> current, float min_iou) {
  std::vector<std::tuple<float, int, int>> pairs;  // (iou, previous, current)
  for (std::size_t i = 0; i < previous.size(); ++i) {
    for (std::size_t j = 0; j < current.size(); ++j) {
      const float iou = BoxIou(previous[i], current[j]);
      if (iou >= min_iou) pairs.emplace_back(iou, static_cast<int>(i), static_cast<int>(j));
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<int> match(current.size(), -1);
  std::vector<bool> used(previous.size(), false);
  for (const auto& [iou, i, j] : pairs) {
    if (used[static_cast<std::size_t>(i)] || match[static_cast<std::size_t>(j)] >= 0) continue;
    used[static_cast<std::size_t>(i)] = true;
    match[static_cast<std::size_t>(j)] = i;
  }
  return match;
}

std::vector<TrackedFace> FaceTracker::AddKeyframe(std::int64_t frame, std::vector<Face> detections) {
  previous_.clear();
  for (const Track& t : tracks_) previous_.push_back(t.current);
  previous_frame_ = current_frame_;
  current_frame_ = frame;
  std::vector<Box> old_boxes, new_boxes;
  for (const Track& t : tracks_) old_boxes.push_back(t.current.face.box);
  for (const Face& f : detections) new_boxes.push_back(f.box);
  const std::vector<int> match = MatchByIou(old_boxes, new_boxes, kMinIou);
  std::vector<Track> next;
  std::vector<bool> matched(tracks_.size(), false);
  for (std::size_t j = 0; j < detections.size(); ++j) {
    const int i = match[j];
    const int id = i >= 0 ? tracks_[static_cast<std::size_t>(i)].current.track_id : next_id_++;
    if (i >= 0) matched[static_cast<std::size_t>(i)] = true;
    next.push_back({{id, detections[j]}, 0});
  }
  for (std::size_t i = 0; i < tracks_.size(); ++i) {
    if (!matched[i] && tracks_[i].misses < kMaxCoast) next.push_back({tracks_[i].current, tracks_[i].misses + 1});
  }
  tracks_ = std::move(next);
  std::vector<TrackedFace> out;
  for (const Track& t : tracks_) out.push_back(t.current);
  return out;
}

std::vector<TrackedFace> FaceTracker::Between(std::int64_t frame) const {
  std::vector<TrackedFace> out;
  if (previous_frame_ < 0 || frame <= previous_frame_ || frame >= current_frame_) return out;
  const float t = static_cast<float>(frame - previous_frame_) / static_cast<float>(current_frame_ - previous_frame_);
  for (const Track& track : tracks_) {
    const TrackedFace* before = FindTrack(previous_, track.current.track_id);
    if (before == nullptr) continue;
    out.push_back({track.current.track_id, LerpFace(before->face, track.current.face, t)});
  }
  return out;
}

double OneEuroFilter::Filter(double x, double dt) {
  const auto alpha = [dt](double cutoff) { return 1.0 / (1.0 + 1.0 / (2 * std::numbers::pi * cutoff * dt)); };
  if (!primed_) {
    primed_ = true;
    x_hat_ = x;
    dx_hat_ = 0;
    return x;
  }
  const double dx = (x - x_hat_) / dt;
  dx_hat_ += alpha(d_cutoff_) * (dx - dx_hat_);
  const double cutoff = min_cutoff_ + beta_ * std::abs(dx_hat_);
  x_hat_ += alpha(cutoff) * (x - x_hat_);
  return x_hat_;
}

void LandmarkSmoother::Smooth(std::vector<TrackedFace>& faces) {
  std::vector<State> kept;
  for (TrackedFace& tracked : faces) {
    auto it =
        std::find_if(states_.begin(), states_.end(), [&](const State& s) { return s.track_id == tracked.track_id; });
    State state;
    if (it != states_.end()) {
      state = std::move(*it);
    } else {
      state.track_id = tracked.track_id;
      state.filters.assign(2 * (68 + 5), OneEuroFilter(kMinCutoffHz, kBeta, kDerivativeCutoffHz));
    }
    Face& f = tracked.face;
    const auto apply = [&](Point2& p, std::size_t k) {
      p.x = static_cast<float>(state.filters[2 * k].Filter(p.x, dt_));
      p.y = static_cast<float>(state.filters[2 * k + 1].Filter(p.y, dt_));
    };
    if (f.has_landmark68) {
      for (std::size_t i = 0; i < 68; ++i) apply(f.landmark68[i], i);
    }
    for (std::size_t i = 0; i < 5; ++i) apply(f.landmark5[i], 68 + i);
    kept.push_back(std::move(state));
  }
  states_ = std::move(kept);
}

double MeanLandmarkMotion(std::span<const std::vector<Point2>> frames) {
  double sum = 0;
  int pairs = 0;
  for (std::size_t i = 1; i < frames.size(); ++i) {
    const auto& a = frames[i - 1];
    const auto& b = frames[i];
    if (a.empty() || a.size() != b.size()) continue;
    double motion = 0;
    for (std::size_t k = 0; k < a.size(); ++k) motion += std::hypot(b[k].x - a[k].x, b[k].y - a[k].y);
    sum += motion / static_cast<double>(a.size());
    ++pairs;
  }
  return pairs > 0 ? sum / pairs : 0;
}

}  // namespace facefleet::pipeline
