// Job traces for the fleet simulator: when jobs arrive and how long each one occupies a GPU worker.
//
// Every synthetic trace is a (possibly non-homogeneous) Poisson process drawn from a seed; service times come
// from ServiceModel (per-frame cost × video length). The same seed gives the same jobs, so every policy in one
// study sees exactly the same work (common random numbers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "facefleet/status.hpp"
#include "sim/rng.hpp"

namespace facefleet::sim {

// One job: it arrives at `arrival_s` (seconds from the start of the trace, which is midnight of day 0) and keeps
// one worker busy for `service_s` once started.
struct Job {
  double arrival_s = 0;
  double service_s = 0;
};

// How long one face-swap job takes on one GPU worker. The constants are planning assumptions, not measurements
// (docs/cost.md states them): a job is a short video, swapped frame by frame.
struct ServiceModel {
  double fps = 30;
  // Neural pipeline per frame on an L4/A10G-class GPU: detect (SCRFD/RetinaFace) + 5-point align + inswapper_128
  // + paste-back + encode. Assumed 40 ms.
  double neural_ms_per_frame = 40;
  // Classic pipeline per frame (docs/benchmarks.md: 31-34 ms for a whole 512-px image swap on one CPU core).
  double classic_ms_per_frame = 30;
  double neural_share = 0.8;  // fraction of jobs that use the neural pipeline
  // Video length: log-normal with this median and log-space sigma, clamped to [1 s, video_max_s].
  double video_median_s = 12;
  double video_sigma = 0.9;
  double video_max_s = 600;
  double job_overhead_s = 3;  // download, probe, upload per job
  double gpu_speedup = 1;     // divides the per-frame cost (a faster GPU than the reference)
};

enum class TraceKind : std::uint8_t { kDiurnal, kBursty, kConstant, kCsv };

struct TraceSpec {
  TraceKind kind = TraceKind::kDiurnal;
  std::string csv_path;  // kCsv only: lines "arrival_s,duration_s" (an optional header line is skipped)
  double hours = 48;     // horizon; jobs arriving later are not part of the trace
  // Peak arrival rate in jobs per minute; 0 picks the trace's default (DefaultPeakPerMinute).
  double peak_per_min = 0;
  // Diurnal: the rate is peak × sin(pi × (h - day_start_h) / (day_end_h - day_start_h)) during the day and
  // zero at night (h = hour of the day).
  double day_start_h = 8;
  double day_end_h = 24;
  // Bursty: a constant background plus flash crowds at the peak rate. Crowds start as a Poisson process
  // (bursts_per_day) and last uniformly between burst_min_s and burst_max_s.
  double background_per_min = 0.5;
  double bursts_per_day = 3;
  double burst_min_s = 600;
  double burst_max_s = 1800;
};

// "diurnal" | "bursty" | "constant" | "csv:PATH"; kUsage otherwise.
Result<TraceSpec> ParseTraceName(const std::string& text);
std::string TraceName(const TraceSpec& spec);  // "diurnal", ..., "csv" (the path is not part of the name)
double DefaultPeakPerMinute(TraceKind kind);
double PeakPerMinute(const TraceSpec& spec);  // spec.peak_per_min or the default

// Arrival rate (jobs per second) of the diurnal trace at time t_s.
double DiurnalRate(const TraceSpec& spec, double t_s);

// One service time drawn from `model` (seconds, > 0).
double SampleServiceS(const ServiceModel& model, Rng& rng);

// The jobs of a trace, sorted by arrival, all with arrival < hours × 3600. CSV traces take service times from
// the file (duration_s) and ignore `model` and `seed`. kInputUnreadable (cannot open) / kUnsupportedMedia (bad
// line) for a bad CSV.
Result<std::vector<Job>> MakeTrace(const TraceSpec& spec, const ServiceModel& model, std::uint64_t seed);

// Parses CSV text (see TraceSpec::csv_path); `name` is used in error messages.
Result<std::vector<Job>> ParseCsvTrace(const std::string& text, const std::string& name);

// The number of always-on workers "sized for the peak": the offered load (busy seconds per second) of the
// busiest 15-minute window, divided by a target utilisation of 0.75, rounded up; at least 1.
int PeakSizedReplicas(const std::vector<Job>& jobs, double horizon_s);

}  // namespace facefleet::sim
