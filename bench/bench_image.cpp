// facefleet-bench-image: per-stage timings of the classic image swap on the sample photos, and two
// side-by-side comparisons that justify defaults:
//   1. HOG detection on a downscaled copy (default) vs at full resolution (baseline);
//   2. feathered blend (default) vs Poisson blend (seamlessClone): time, identity kept, seam visibility.
// Prints Markdown tables for docs/benchmarks.md. Usage: facefleet-bench-image [--runs N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/stopwatch.hpp"
#include "facefleet/facefleet.hpp"
#include "media/image_io.hpp"
#include "pipeline/classic_swapper.hpp"
#include "pipeline/face_selector.hpp"
#include "pipeline/geometry.hpp"

namespace {

using facefleet::Engine;
using facefleet::EngineOptions;
using facefleet::StageTimings;
using facefleet::SwapOptions;

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

struct Case {
  std::string name;
  std::string source;
  std::string target;
};

std::unique_ptr<Engine> MakeEngine(int detector_size) {
  EngineOptions options;
  options.classic_detector_size = detector_size;
  auto engine = Engine::Create(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    throw std::runtime_error("benchmark step failed");
  }
  return std::move(*engine);
}

// Median stage timings (and median wall time) of `runs` file-to-file swaps.
std::pair<StageTimings, double> TimeSwaps(const Engine& engine, const Case& c, int runs, const std::string& out) {
  SwapOptions options;
  options.source_paths = {c.source};
  options.target_path = c.target;
  options.output_path = out;
  std::vector<double> decode, detect, landmark, warp, blend, encode, wall;
  for (int i = 0; i < runs; ++i) {
    facefleet::core::Stopwatch watch;
    auto report = engine.SwapFiles(options);
    wall.push_back(watch.LapMs());
    if (!report.ok()) {
      std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
      throw std::runtime_error("benchmark step failed");
    }
    const StageTimings& t = report->timings;
    decode.push_back(t.decode_ms);
    detect.push_back(t.detect_ms);
    landmark.push_back(t.landmark_ms);
    warp.push_back(t.warp_ms);
    blend.push_back(t.blend_ms);
    encode.push_back(t.encode_ms);
  }
  return {{Median(decode), Median(detect), Median(landmark), Median(warp), Median(blend), Median(encode)},
          Median(wall)};
}

facefleet::Image ToImage(const cv::Mat& m) {
  facefleet::Image image{m.cols, m.rows, m.channels(), {}};
  image.pixels.assign(m.datastart, m.dataend);
  return image;
}

// Mean gradient magnitude on a 3-px ring along the face hull boundary: how visible the seam is.
double SeamGradient(const cv::Mat& bgr, const cv::Mat& hull) {
  cv::Mat grey;
  cv::Mat gx;
  cv::Mat gy;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::Sobel(grey, gx, CV_32F, 1, 0);
  cv::Sobel(grey, gy, CV_32F, 0, 1);
  cv::Mat magnitude;
  cv::magnitude(gx, gy, magnitude);
  cv::Mat inner;
  cv::Mat outer;
  const cv::Mat k = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3));
  cv::erode(hull, inner, k);
  cv::dilate(hull, outer, k);
  return cv::mean(magnitude, outer & ~inner)[0];
}

void PrintStageTable(const std::vector<Case>& cases, const Engine& engine, int runs, const std::string& out) {
  std::printf("| case | decode | detect | landmarks | warp+colour | blend | encode | total (wall) |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Case& c : cases) {
    const auto [t, wall] = TimeSwaps(engine, c, runs, out);
    std::printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", c.name.c_str(), t.decode_ms, t.detect_ms,
                t.landmark_ms, t.warp_ms, t.blend_ms, t.encode_ms, wall);
  }
  std::printf("\n(ms, median of %d runs; detect and landmarks cover both the source and the target photo)\n\n", runs);
}

void PrintDetectorComparison(const std::vector<Case>& cases, const Engine& fast, int runs, const std::string& out) {
  const auto full = MakeEngine(8192);  // never downscales: the baseline
  std::printf("| case | detect, full resolution (baseline) | detect, downscaled to 320 px | speed-up |\n");
  std::printf("|---|---:|---:|---:|\n");
  for (const Case& c : cases) {
    const double base = TimeSwaps(*full, c, runs, out).first.detect_ms;
    const double ours = TimeSwaps(fast, c, runs, out).first.detect_ms;
    std::printf("| %s | %.1f ms | %.1f ms | %.2fx |\n", c.name.c_str(), base, ours, base / ours);
  }
  std::printf("\n");
}

void PrintBlendComparison(const std::vector<Case>& cases, const Engine& engine, int runs) {
  std::printf("| case | blend | blend ms | identity NCC (higher = more source) | seam gradient / original |\n");
  std::printf("|---|---|---:|---:|---:|\n");
  for (const Case& c : cases) {
    const cv::Mat source = facefleet::media::ReadImage(c.source, 1 << 30).value();
    const cv::Mat target = facefleet::media::ReadImage(c.target, 1 << 30).value();
    auto target_faces = engine.Analyze(ToImage(target));
    auto source_faces = engine.Analyze(ToImage(source));
    if (!target_faces.ok() || target_faces->empty() || !source_faces.ok() || source_faces->empty())
      throw std::runtime_error("benchmark step failed");
    const facefleet::Face& tf = facefleet::pipeline::LargestFace(*target_faces);
    const facefleet::Face& sf = facefleet::pipeline::LargestFace(*source_faces);
    const cv::Mat hull = facefleet::pipeline::TargetFaceMask(tf, target.size());
    const facefleet::pipeline::ClassicSource src{source, facefleet::pipeline::ToCv(sf.landmark68)};
    const auto tp = facefleet::pipeline::ToCv(tf.landmark68);
    cv::Mat coverage;
    const cv::Mat warped = facefleet::pipeline::WarpPiecewiseAffine(
        source, src.points, tp, facefleet::pipeline::Triangulate(tp), target.size(), coverage);
    for (const auto blend : {facefleet::ClassicBlend::kFeather, facefleet::ClassicBlend::kPoisson}) {
      std::vector<double> ms;
      cv::Mat frame;
      for (int i = 0; i < runs; ++i) {
        frame = target.clone();
        StageTimings t;
        facefleet::pipeline::SwapClassicFace(src, tf, blend, frame, &t);
        ms.push_back(t.blend_ms);
      }
      cv::Mat inner;
      cv::erode(hull & coverage, inner, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(17, 17)));
      cv::Mat a;
      cv::Mat b;
      cv::cvtColor(frame, a, cv::COLOR_BGR2GRAY);
      cv::cvtColor(warped, b, cv::COLOR_BGR2GRAY);
      cv::Mat corr;
      const cv::Rect box = cv::boundingRect(inner);
      cv::matchTemplate(a(box), b(box), corr, cv::TM_CCOEFF_NORMED);
      std::printf("| %s | %s | %.1f | %.3f | %.2f |\n", c.name.c_str(),
                  blend == facefleet::ClassicBlend::kFeather ? "feather" : "poisson", Median(ms), corr.at<float>(0, 0),
                  SeamGradient(frame, hull) / SeamGradient(target, hull));
    }
  }
  std::printf("\n");
}

int Run(int argc, char** argv) {
  int runs = 15;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  }
  const std::vector<Case> cases = {
      {"grace (512x600 jpg) -> astronaut (512x512 png)", FACEFLEET_SAMPLE_GRACE, FACEFLEET_SAMPLE_ASTRONAUT},
      {"astronaut -> grace", FACEFLEET_SAMPLE_ASTRONAUT, FACEFLEET_SAMPLE_GRACE},
  };
  const std::string out = (std::filesystem::temp_directory_path() / "facefleet-bench-out.jpg").string();
  facefleet::core::Stopwatch load;
  const auto engine = MakeEngine(EngineOptions{}.classic_detector_size);
  std::printf("Engine::Create (loads the 68-point model): %.0f ms\n\n", load.LapMs());
  std::printf("## Classic image swap, per stage\n\n");
  PrintStageTable(cases, *engine, runs, out);
  std::printf("## Detector input size (side by side)\n\n");
  PrintDetectorComparison(cases, *engine, runs, out);
  std::printf("## Blend: feather vs Poisson (side by side)\n\n");
  PrintBlendComparison(cases, *engine, runs);
  std::filesystem::remove(out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
