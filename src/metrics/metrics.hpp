// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text exposition format
// (version 0.0.4) that `promtool check metrics` accepts.
//
// Names follow Prometheus conventions: a `facefleet_` prefix, snake_case, base units (`_seconds`, `_bytes`),
// `_total` for counters. Families are declared once (a name has one type, help text and label set); label
// values are added on first use.
//
// Thread safety: everything here may be used from any thread. Updating a cached child (Counter&, Histogram&)
// is lock-free (atomics); looking a child up by label values takes the family's own mutex (one per family, no
// global lock). Children live as long as the Registry; references to them stay valid.
//
//   metrics::Registry registry;
//   auto& requests = registry.AddCounter("facefleet_http_requests_total", "HTTP requests", {"route", "code"});
//   requests.With({"/v1/jobs", "202"}).Increment();
//   std::string text = registry.Render();
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace facefleet::metrics {

// A double that only adds (a CAS loop; fetch_add on atomic<double> is C++20 but not lock-free everywhere).
class AtomicDouble {
 public:
  void Add(double v) noexcept;
  void Set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  double Get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Counter {
 public:
  void Increment(double by = 1) noexcept { value_.Add(by); }  // `by` must be ≥ 0
  double Value() const noexcept { return value_.Get(); }

 private:
  AtomicDouble value_;
};

class Gauge {
 public:
  void Set(double v) noexcept { value_.Set(v); }
  void Add(double v) noexcept { value_.Add(v); }
  double Value() const noexcept { return value_.Get(); }

 private:
  AtomicDouble value_;
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v) noexcept;

  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative count for bucket i (i == bounds().size() is +Inf), as Prometheus renders it.
  std::uint64_t CumulativeCount(std::size_t i) const noexcept;
  double Sum() const noexcept { return sum_.Get(); }
  std::uint64_t Count() const noexcept;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, non-cumulative; last = +Inf
  AtomicDouble sum_;
};

// Bucket bounds for durations in seconds: 1 ms to about 30 min.
std::vector<double> DurationBuckets();
// Bucket bounds for HTTP request latency in seconds: 0.5 ms to 10 s.
std::vector<double> LatencyBuckets();

enum class Type : std::uint8_t { kCounter, kGauge, kHistogram };

template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels, std::function<T()> make)
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), make_(std::move(make)) {}

  // The child for these label values (as many as the family's labels; created on first use).
  T& With(const std::vector<std::string>& values);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labels() const { return labels_; }
  // Calls fn(label values, child) for every child in label order.
  void ForEach(const std::function<void(const std::vector<std::string>&, const T&)>& fn) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
  std::function<T()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Declares a family. Precondition: `name` is new and valid ([a-zA-Z_:][a-zA-Z0-9_:]*, no "__" prefix,
  // counters end in _total; a histogram also takes <name>_bucket, _sum and _count), label names are distinct and
  // valid ([a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix, no "le" on histograms), bounds strictly increasing and finite
  // (a trailing +Inf is dropped: it is always implied); violations are programming errors and abort with a
  // message. An unlabeled family gets its one child at once, so it renders 0 before the first update.
  Family<Counter>& AddCounter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                                  std::vector<std::string> labels = {});

  // Runs before every Render (e.g. to refresh gauges from the queue). Called on the rendering thread.
  void AddCollector(std::function<void()> collect);

  // The whole registry in the Prometheus text format, families in declaration order.
  std::string Render() const;

 private:
  void CheckNew(const std::string& name) const;

  mutable std::mutex mu_;  // guards the family lists and collectors, not the values
  std::deque<Family<Counter>> counters_;
  std::deque<Family<Gauge>> gauges_;
  std::deque<Family<Histogram>> histograms_;
  std::vector<std::pair<Type, std::size_t>> order_;
  std::vector<std::function<void()>> collectors_;
};

// Escapes a label value for the text format (backslash, double quote, newline).
std::string EscapeLabelValue(const std::string& value);

}  // namespace facefleet::metrics
