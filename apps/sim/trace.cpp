#include "sim/trace.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>

namespace facefleet::sim {
namespace {

constexpr double kSecondsPerDay = 86400;
// Independent random streams drawn from one user seed.
constexpr std::uint64_t kArrivalStream = 1;
constexpr std::uint64_t kServiceStream = 2;
constexpr std::uint64_t kBurstStream = 3;

struct Window {
  double start_s;
  double end_s;
};

// Non-homogeneous Poisson arrivals by thinning: candidates at `max_rate`, each kept with probability
// rate(t) / max_rate. `rate` must never exceed `max_rate`.
template <typename RateFn>
std::vector<double> ThinnedArrivals(double horizon_s, double max_rate, RateFn rate, Rng& rng) {
  std::vector<double> out;
  if (max_rate <= 0) return out;
  double t = 0;
  while (true) {
    t += rng.Exponential(max_rate);
    if (t >= horizon_s) break;
    if (rng.Uniform() * max_rate < rate(t)) out.push_back(t);
  }
  return out;
}

std::vector<Window> FlashCrowds(const TraceSpec& spec, double horizon_s, Rng& rng) {
  std::vector<Window> crowds;
  if (spec.bursts_per_day <= 0) return crowds;
  double t = 0;
  while (true) {
    t += rng.Exponential(spec.bursts_per_day / kSecondsPerDay);
    if (t >= horizon_s) break;
    const double length_s = spec.burst_min_s + rng.Uniform() * (spec.burst_max_s - spec.burst_min_s);
    crowds.push_back({t, t + length_s});
  }
  return crowds;
}

std::vector<double> ArrivalTimes(const TraceSpec& spec, double horizon_s, std::uint64_t seed) {
  Rng rng(seed, kArrivalStream);
  const double peak = PeakPerMinute(spec) / 60.0;
  switch (spec.kind) {
    case TraceKind::kDiurnal:
      return ThinnedArrivals(
          horizon_s, peak, [&](double t) { return DiurnalRate(spec, t); }, rng);
    case TraceKind::kBursty: {
      Rng burst_rng(seed, kBurstStream);
      const std::vector<Window> crowds = FlashCrowds(spec, horizon_s, burst_rng);
      const double background = spec.background_per_min / 60.0;
      auto rate = [&](double t) {
        const bool in_crowd =
            std::any_of(crowds.begin(), crowds.end(), [t](const Window& w) { return t >= w.start_s && t < w.end_s; });
        return background + (in_crowd ? peak : 0.0);
      };
      return ThinnedArrivals(horizon_s, background + peak, rate, rng);
    }
    case TraceKind::kConstant:
    case TraceKind::kCsv:
      break;
  }
  return ThinnedArrivals(
      horizon_s, peak, [peak](double) { return peak; }, rng);
}

std::string Trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

bool ParseDouble(const std::string& text, double& value) {
  const std::string trimmed = Trim(text);
  const char* end = trimmed.data() + trimmed.size();
  const auto [ptr, ec] = std::from_chars(trimmed.data(), end, value);
  return !trimmed.empty() && ec == std::errc() && ptr == end && std::isfinite(value);
}

}  // namespace

Result<TraceSpec> ParseTraceName(const std::string& text) {
  TraceSpec spec;
  if (text == "diurnal") {
    spec.kind = TraceKind::kDiurnal;
  } else if (text == "bursty") {
    spec.kind = TraceKind::kBursty;
  } else if (text == "constant") {
    spec.kind = TraceKind::kConstant;
  } else if (text.rfind("csv:", 0) == 0 && text.size() > 4) {
    spec.kind = TraceKind::kCsv;
    spec.csv_path = text.substr(4);
  } else {
    return Status(ErrorCode::kUsage, "--trace must be diurnal, bursty, constant or csv:PATH, got '" + text + "'");
  }
  return spec;
}

std::string TraceName(const TraceSpec& spec) {
  switch (spec.kind) {
    case TraceKind::kDiurnal:
      return "diurnal";
    case TraceKind::kBursty:
      return "bursty";
    case TraceKind::kConstant:
      return "constant";
    case TraceKind::kCsv:
      break;
  }
  return "csv";
}

double DefaultPeakPerMinute(TraceKind kind) {
  switch (kind) {
    case TraceKind::kDiurnal:
      return 6;  // ~2.3 busy GPUs at 15:00 with the default ServiceModel
    case TraceKind::kBursty:
      return 20;  // a flash crowd: ~8 busy GPUs for 10-30 minutes
    case TraceKind::kConstant:
    case TraceKind::kCsv:
      break;
  }
  return 3;
}

double PeakPerMinute(const TraceSpec& spec) {
  return spec.peak_per_min > 0 ? spec.peak_per_min : DefaultPeakPerMinute(spec.kind);
}

double DiurnalRate(const TraceSpec& spec, double t_s) {
  const double hour = std::fmod(t_s, kSecondsPerDay) / 3600.0;
  if (hour < spec.day_start_h || hour >= spec.day_end_h) return 0;
  const double phase = (hour - spec.day_start_h) / (spec.day_end_h - spec.day_start_h);
  return PeakPerMinute(spec) / 60.0 * std::sin(std::numbers::pi * phase);
}

double SampleServiceS(const ServiceModel& model, Rng& rng) {
  const double video_s =
      std::clamp(model.video_median_s * std::exp(model.video_sigma * rng.Normal()), 1.0, model.video_max_s);
  const bool neural = rng.Uniform() < model.neural_share;
  const double ms_per_frame = neural ? model.neural_ms_per_frame : model.classic_ms_per_frame;
  return model.job_overhead_s + video_s * model.fps * ms_per_frame / 1000.0 / model.gpu_speedup;
}

Result<std::vector<Job>> ParseCsvTrace(const std::string& text, const std::string& name) {
  std::vector<Job> jobs;
  std::istringstream lines(text);
  std::string line;
  int line_number = 0;
  bool seen_data = false;
  while (std::getline(lines, line)) {
    ++line_number;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto comma = line.find(',');
    Job job;
    const bool parsed = comma != std::string::npos && ParseDouble(line.substr(0, comma), job.arrival_s) &&
                        ParseDouble(line.substr(comma + 1), job.service_s);
    if (!parsed && !seen_data) {  // a header line such as "arrival_s,duration_s"
      seen_data = true;
      continue;
    }
    seen_data = true;
    if (!parsed || job.arrival_s < 0 || job.service_s <= 0) {
      std::string message = name;
      message += ": line " + std::to_string(line_number);
      message += ": expected 'arrival_s,duration_s' with arrival >= 0 and duration > 0, got '" + line + "'";
      return Status(ErrorCode::kUnsupportedMedia, message);
    }
    jobs.push_back(job);
  }
  std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.arrival_s < b.arrival_s; });
  return jobs;
}

Result<std::vector<Job>> MakeTrace(const TraceSpec& spec, const ServiceModel& model, std::uint64_t seed) {
  const double horizon_s = spec.hours * 3600.0;
  if (spec.kind == TraceKind::kCsv) {
    std::ifstream file(spec.csv_path, std::ios::binary);
    if (!file) return Status(ErrorCode::kInputUnreadable, spec.csv_path + ": cannot open the trace file");
    std::ostringstream text;
    text << file.rdbuf();
    Result<std::vector<Job>> jobs = ParseCsvTrace(text.str(), spec.csv_path);
    if (!jobs.ok()) return jobs;
    std::erase_if(jobs.value(), [horizon_s](const Job& job) { return job.arrival_s >= horizon_s; });
    return jobs;
  }
  Rng service_rng(seed, kServiceStream);
  std::vector<Job> jobs;
  for (const double arrival_s : ArrivalTimes(spec, horizon_s, seed)) {
    jobs.push_back({arrival_s, SampleServiceS(model, service_rng)});
  }
  return jobs;
}

int PeakSizedReplicas(const std::vector<Job>& jobs, double horizon_s) {
  constexpr double kWindowS = 900;
  constexpr double kTargetUtilisation = 0.75;
  double busiest = 0;
  for (const double offset_s : {0.0, kWindowS / 2}) {  // two grids, so a peak straddling a boundary is seen
    std::vector<double> work(static_cast<std::size_t>(horizon_s / kWindowS) + 2, 0.0);
    for (const Job& job : jobs) {
      work[static_cast<std::size_t>((job.arrival_s + offset_s) / kWindowS)] += job.service_s;
    }
    for (const double w : work) busiest = std::max(busiest, w);
  }
  const double load = busiest / kWindowS;
  return std::max(1, static_cast<int>(std::ceil(load / kTargetUtilisation - 1e-9)));
}

}  // namespace facefleet::sim
