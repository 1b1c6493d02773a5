// Prometheus registry: families, children and the text exposition format (version 0.0.4).
#include "metrics/metrics.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>

namespace facefleet::metrics {
namespace {

// Misusing the registry (a bad or duplicate name, the wrong number of label values) is a bug in the calling
// code that the first test touching the metric finds; exporting garbage instead would hide it until a dashboard
// breaks. So: a clear message and abort.
void Check(bool ok, std::string_view problem, const std::string& subject) {
  if (ok) return;
  std::fprintf(stderr, "facefleet: metrics: %.*s: '%s'\n", static_cast<int>(problem.size()), problem.data(),
               subject.c_str());
  std::abort();
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: the same without ':'. Neither may start with "__"
// (reserved for Prometheus' internal use).
bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsAsciiLetter(c) || c == '_' || (allow_colon && c == ':') || (i > 0 && IsDigit(c));
    if (!ok) return false;
  }
  return true;
}

void CheckLabels(const std::string& family, const std::vector<std::string>& labels, bool histogram) {
  std::set<std::string> seen;
  for (const std::string& label : labels) {
    Check(IsValidName(label, false), "invalid label name (want [a-zA-Z_][a-zA-Z0-9_]*, no '__' prefix)", label);
    Check(!histogram || label != "le", "histograms cannot have a label named 'le'", family);
    Check(seen.insert(label).second, "duplicate label name in " + family, label);
  }
}

void CheckBounds(const std::string& family, const std::vector<double>& bounds) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    Check(std::isfinite(bounds[i]), "histogram bucket bounds must be finite", family);
    Check(i == 0 || bounds[i - 1] < bounds[i], "histogram bucket bounds must be strictly increasing", family);
  }
}

// Appends `text` with backslash and newline escaped (and the double quote when `quote`), as the text format
// requires for HELP text and label values.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// Numbers as Prometheus parses them: integral values without exponent ("3"), others with the fewest digits that
// read back to the same double in printf's %g style ("0.0005", "1e-07"; plain to_chars would pick "5e-04" for
// being one byte shorter, but `le` values are label strings that dashboards match, and the Go client writes
// "0.0005"), and the special values spelled "+Inf", "-Inf", "NaN".
std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // also -0, which would render as "-0"
  std::array<char, 64> buffer{};
  char* const first = buffer.data();
  char* const last = first + buffer.size();
  // Below 1e15 an integral double prints exactly in at most 16 digits; above, the exponent form is shorter.
  constexpr double kPlainIntegerLimit = 1e15;
  const std::to_chars_result result = v == std::trunc(v) && std::fabs(v) < kPlainIntegerLimit
                                          ? std::to_chars(first, last, v, std::chars_format::fixed, 0)
                                          : std::to_chars(first, last, v, std::chars_format::general);
  return {first, result.ptr};
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  AppendEscaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// `{l1="v1",l2="v2"}` plus an optional extra label (histograms' `le`); nothing when there are no labels.
void AppendLabels(std::string& out, const std::vector<std::string>& labels, const std::vector<std::string>& values,
                  std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i];
    out += "=\"";
    AppendEscaped(out, values[i], true);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!labels.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void AppendSample(std::string& out, const std::string& name, std::string_view suffix,
                  const std::vector<std::string>& labels, const std::vector<std::string>& values,
                  const std::string& value) {
  out += name;
  out += suffix;
  AppendLabels(out, labels, values);
  out += ' ';
  out += value;
  out += '\n';
}

template <typename T>
void RenderScalarFamily(std::string& out, const Family<T>& family, std::string_view type) {
  AppendHeader(out, family.name(), family.help(), type);
  family.ForEach([&](const std::vector<std::string>& values, const T& child) {
    AppendSample(out, family.name(), "", family.labels(), values, FormatNumber(child.Value()));
  });
}

void RenderHistogramFamily(std::string& out, const Family<Histogram>& family) {
  AppendHeader(out, family.name(), family.help(), "histogram");
  family.ForEach([&](const std::vector<std::string>& values, const Histogram& histogram) {
    const std::vector<double>& bounds = histogram.bounds();
    // Cumulative counts read bucket by bucket stay non-decreasing under concurrent Observe (each later read
    // sums more buckets, each at a later time); _count repeats the +Inf bucket so the two always agree.
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
      cumulative = std::max(cumulative, histogram.CumulativeCount(i));
      out += family.name();
      out += "_bucket";
      AppendLabels(out, family.labels(), values, "le", i < bounds.size() ? FormatNumber(bounds[i]) : "+Inf");
      out += ' ';
      out += std::to_string(cumulative);
      out += '\n';
    }
    AppendSample(out, family.name(), "_sum", family.labels(), values, FormatNumber(histogram.Sum()));
    AppendSample(out, family.name(), "_count", family.labels(), values, std::to_string(cumulative));
  });
}

}  // namespace

void AtomicDouble::Add(double v) noexcept {
  double current = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(current, current + v, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  // +Inf is implicit (always the last bucket); accept callers that list it anyway.
  if (!bounds_.empty() && std::isinf(bounds_.back()) && bounds_.back() > 0) bounds_.pop_back();
  CheckBounds("histogram", bounds_);
  counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
}

void Histogram::Observe(double v) noexcept {
  // Bucket i counts bounds[i-1] < v <= bounds[i] ("le" is less-or-equal); NaN compares false with everything
  // and goes to +Inf, like the Go client.
  const std::size_t bucket =
      std::isnan(v) ? bounds_.size()
                    : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.Add(v);
}

std::uint64_t Histogram::CumulativeCount(std::size_t i) const noexcept {
  std::uint64_t total = 0;
  for (std::size_t j = 0; j <= i && j <= bounds_.size(); ++j) total += counts_[j].load(std::memory_order_relaxed);
  return total;
}

std::uint64_t Histogram::Count() const noexcept { return CumulativeCount(bounds_.size()); }

std::vector<double> DurationBuckets() {
  // 1-2.5-5 steps per decade (about x2.2 on average), then 30 minutes: the longest job a worker runs.
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 1800};
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <typename T>
T& Family<T>::With(const std::vector<std::string>& values) {
  Check(values.size() == labels_.size(), "wrong number of label values for metric", name_);
  const std::lock_guard lock(mu_);
  auto it = children_.find(values);
  if (it == children_.end()) {
    // T holds atomics and cannot move: make_() returns a prvalue that initializes the new child in place.
    it = children_.emplace(values, std::unique_ptr<T>(new T(make_()))).first;
  }
  return *it->second;
}

template <typename T>
void Family<T>::ForEach(const std::function<void(const std::vector<std::string>&, const T&)>& fn) const {
  const std::lock_guard lock(mu_);
  for (const auto& [values, child] : children_) fn(values, *child);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
  Check(name.ends_with("_total"), "counter names must end in _total", name);
  CheckLabels(name, labels, false);
  const std::lock_guard lock(mu_);
  CheckNew(name);
  Family<Counter>& family = counters_.emplace_back(name, help, std::move(labels), [] { return Counter(); });
  order_.emplace_back(Type::kCounter, counters_.size() - 1);
  // An unlabeled family has exactly one child: create it now so it renders 0 before the first update.
  if (family.labels().empty()) family.With({});
  return family;
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  CheckLabels(name, labels, false);
  const std::lock_guard lock(mu_);
  CheckNew(name);
  Family<Gauge>& family = gauges_.emplace_back(name, help, std::move(labels), [] { return Gauge(); });
  order_.emplace_back(Type::kGauge, gauges_.size() - 1);
  if (family.labels().empty()) family.With({});
  return family;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                                          std::vector<std::string> labels) {
  CheckLabels(name, labels, true);
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  CheckBounds(name, bounds);
  const std::lock_guard lock(mu_);
  // A histogram also owns the series <name>_bucket, _sum and _count.
  for (const char* suffix : {"", "_bucket", "_sum", "_count"}) CheckNew(name + suffix);
  Family<Histogram>& family = histograms_.emplace_back(name, help, std::move(labels),
                                                       [bounds = std::move(bounds)] { return Histogram(bounds); });
  order_.emplace_back(Type::kHistogram, histograms_.size() - 1);
  if (family.labels().empty()) family.With({});
  return family;
}

void Registry::AddCollector(std::function<void()> collect) {
  const std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collect));
}

// Caller holds mu_. `name` must be a valid metric name that no family (nor a histogram's derived series) uses.
void Registry::CheckNew(const std::string& name) const {
  Check(IsValidName(name, true), "invalid metric name (want [a-zA-Z_:][a-zA-Z0-9_:]*, no '__' prefix)", name);
  const auto taken = [&name](const std::string& family, Type type) {
    if (name == family) return true;
    if (type != Type::kHistogram) return false;
    return name == family + "_bucket" || name == family + "_sum" || name == family + "_count";
  };
  for (const auto& family : counters_) Check(!taken(family.name(), Type::kCounter), "metric name already used", name);
  for (const auto& family : gauges_) Check(!taken(family.name(), Type::kGauge), "metric name already used", name);
  for (const auto& family : histograms_) {
    Check(!taken(family.name(), Type::kHistogram), "metric name collides with a histogram's series", name);
  }
}

std::string Registry::Render() const {
  // Collectors run without the registry lock: they update gauges and may look children up.
  std::vector<std::function<void()>> collectors;
  {
    const std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect();

  std::string out;
  const std::lock_guard lock(mu_);
  for (const auto& [type, index] : order_) {
    switch (type) {
      case Type::kCounter:
        RenderScalarFamily(out, counters_[index], "counter");
        break;
      case Type::kGauge:
        RenderScalarFamily(out, gauges_[index], "gauge");
        break;
      case Type::kHistogram:
        RenderHistogramFamily(out, histograms_[index]);
        break;
    }
  }
  return out;
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  AppendEscaped(out, value, true);
  return out;
}

}  // namespace facefleet::metrics
