// Metrics registry: value math, label handling, the exact text format, concurrency, and `promtool check metrics`.
#include "metrics/metrics.hpp"

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "support/temp_dir.hpp"

namespace facefleet::metrics {
namespace {

// The line of `text` that starts with `prefix` (empty when none).
std::string LineStartingWith(const std::string& text, const std::string& prefix) {
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    if (line.starts_with(prefix)) return line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "";
}

TEST(MetricsTest, CounterAddsUp) {
  Registry registry;
  Counter& counter = registry.AddCounter("facefleet_test_total", "help").With({});
  counter.Increment();
  counter.Increment(2.5);
  EXPECT_EQ(counter.Value(), 3.5);
  EXPECT_EQ(LineStartingWith(registry.Render(), "facefleet_test_total "), "facefleet_test_total 3.5");
}

TEST(MetricsTest, GaugeSetsAndAdds) {
  Registry registry;
  Gauge& gauge = registry.AddGauge("facefleet_test", "help").With({});
  gauge.Set(10);
  gauge.Add(-4);
  gauge.Add(0.5);
  EXPECT_EQ(gauge.Value(), 6.5);
}

TEST(MetricsTest, HistogramBucketsAreLessOrEqual) {
  Histogram histogram({1, 2, 5});
  for (const double v : {0.5, 1.0, 1.5, 2.0, 5.0, 7.0, -3.0}) histogram.Observe(v);
  // le="1": 0.5, 1, -3; le="2": + 1.5, 2; le="5": + 5; +Inf: + 7.
  EXPECT_EQ(histogram.CumulativeCount(0), 3U);
  EXPECT_EQ(histogram.CumulativeCount(1), 5U);
  EXPECT_EQ(histogram.CumulativeCount(2), 6U);
  EXPECT_EQ(histogram.CumulativeCount(3), 7U);
  EXPECT_EQ(histogram.Count(), 7U);
  EXPECT_DOUBLE_EQ(histogram.Sum(), 14.0);
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(histogram.CumulativeCount(2), 6U);
  EXPECT_EQ(histogram.Count(), 8U);
}

TEST(MetricsTest, HistogramDropsExplicitInfBound) {
  const Histogram histogram({0.1, 1, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(histogram.bounds(), (std::vector<double>{0.1, 1}));
  EXPECT_EQ(histogram.Count(), 0U);
}

TEST(MetricsTest, StandardBuckets) {
  for (const std::vector<double>& bounds : {DurationBuckets(), LatencyBuckets()}) {
    for (std::size_t i = 1; i < bounds.size(); ++i) EXPECT_LT(bounds[i - 1], bounds[i]);
  }
  EXPECT_EQ(DurationBuckets().front(), 0.001);
  EXPECT_EQ(DurationBuckets().back(), 1800);
  EXPECT_EQ(LatencyBuckets().front(), 0.0005);
  EXPECT_EQ(LatencyBuckets().back(), 10);
}

TEST(MetricsTest, ChildrenAreCreatedOnceAndStayPut) {
  Registry registry;
  Family<Counter>& family = registry.AddCounter("facefleet_test_total", "help", {"route"});
  Counter& a = family.With({"a"});
  for (int i = 0; i < 100; ++i) family.With({"x" + std::to_string(i)});
  EXPECT_EQ(&a, &family.With({"a"}));
  a.Increment();
  EXPECT_EQ(family.With({"a"}).Value(), 1);
}

TEST(MetricsTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  Registry registry;
  registry.AddCounter("facefleet_test_total", "help", {"path"}).With({"C:\\dir \"x\"\n"}).Increment();
  EXPECT_EQ(LineStartingWith(registry.Render(), "facefleet_test_total{"),
            "facefleet_test_total{path=\"C:\\\\dir \\\"x\\\"\\n\"} 1");
}

TEST(MetricsTest, RendersExactTextFormat) {
  Registry registry;
  auto& requests = registry.AddCounter("facefleet_http_requests_total", "HTTP requests by route and status code.",
                                       {"route", "code"});
  requests.With({"/v1/jobs", "202"}).Increment();
  requests.With({"/v1/jobs", "202"}).Increment();
  requests.With({"/healthz", "200"}).Increment();
  registry.AddGauge("facefleet_queue_depth", "Jobs waiting.\nSecond line with a \\ backslash.").With({}).Set(7);
  auto& durations = registry.AddHistogram("facefleet_job_duration_seconds", "Job run time.", {0.5, 1, 2.5}, {"kind"});
  for (const double v : {0.25, 1.0, 3.0}) durations.With({"image"}).Observe(v);

  EXPECT_EQ(registry.Render(),
            "# HELP facefleet_http_requests_total HTTP requests by route and status code.\n"
            "# TYPE facefleet_http_requests_total counter\n"
            "facefleet_http_requests_total{route=\"/healthz\",code=\"200\"} 1\n"
            "facefleet_http_requests_total{route=\"/v1/jobs\",code=\"202\"} 2\n"
            "# HELP facefleet_queue_depth Jobs waiting.\\nSecond line with a \\\\ backslash.\n"
            "# TYPE facefleet_queue_depth gauge\n"
            "facefleet_queue_depth 7\n"
            "# HELP facefleet_job_duration_seconds Job run time.\n"
            "# TYPE facefleet_job_duration_seconds histogram\n"
            "facefleet_job_duration_seconds_bucket{kind=\"image\",le=\"0.5\"} 1\n"
            "facefleet_job_duration_seconds_bucket{kind=\"image\",le=\"1\"} 2\n"
            "facefleet_job_duration_seconds_bucket{kind=\"image\",le=\"2.5\"} 2\n"
            "facefleet_job_duration_seconds_bucket{kind=\"image\",le=\"+Inf\"} 3\n"
            "facefleet_job_duration_seconds_sum{kind=\"image\"} 4.25\n"
            "facefleet_job_duration_seconds_count{kind=\"image\"} 3\n");
}

TEST(MetricsTest, EmptyFamilies) {
  Registry registry;
  EXPECT_EQ(registry.Render(), "");
  registry.AddCounter("facefleet_labeled_total", "Labeled, never used.", {"code"});
  registry.AddGauge("facefleet_plain", "Unlabeled, never set.");
  registry.AddHistogram("facefleet_plain_seconds", "Unlabeled, never observed.", {0.1, 1});
  EXPECT_EQ(registry.Render(),
            "# HELP facefleet_labeled_total Labeled, never used.\n"
            "# TYPE facefleet_labeled_total counter\n"
            "# HELP facefleet_plain Unlabeled, never set.\n"
            "# TYPE facefleet_plain gauge\n"
            "facefleet_plain 0\n"
            "# HELP facefleet_plain_seconds Unlabeled, never observed.\n"
            "# TYPE facefleet_plain_seconds histogram\n"
            "facefleet_plain_seconds_bucket{le=\"0.1\"} 0\n"
            "facefleet_plain_seconds_bucket{le=\"1\"} 0\n"
            "facefleet_plain_seconds_bucket{le=\"+Inf\"} 0\n"
            "facefleet_plain_seconds_sum 0\n"
            "facefleet_plain_seconds_count 0\n");
}

TEST(MetricsTest, FormatsNumbersAsPrometheusReadsThem) {
  const struct {
    double value;
    const char* text;
  } cases[] = {
      {3, "3"},
      {-2.5, "-2.5"},
      {0.1, "0.1"},
      {-0.0, "0"},
      {123456789012, "123456789012"},
      {1e20, "1e+20"},
      {1e-7, "1e-07"},
      {1.0 / 3, "0.3333333333333333"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const auto& c : cases) {
    Registry registry;
    registry.AddGauge("facefleet_value", "help").With({}).Set(c.value);
    EXPECT_EQ(LineStartingWith(registry.Render(), "facefleet_value "), std::string("facefleet_value ") + c.text);
  }
  Registry registry;
  registry.AddHistogram("facefleet_le_seconds", "help", {0.0005, 0.25, 10, 1800});
  const std::string text = registry.Render();
  for (const char* le : {"0.0005", "0.25", "10", "1800", "+Inf"}) {
    EXPECT_NE(text.find(std::string("le=\"") + le + "\""), std::string::npos) << le << "\n" << text;
  }
}

TEST(MetricsTest, ConcurrentUpdatesSumExactly) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100000;
  Registry registry;
  Family<Counter>& counters = registry.AddCounter("facefleet_test_total", "help", {"worker"});
  Histogram& histogram = registry.AddHistogram("facefleet_test_seconds", "help", {0.5, 1.5}).With({});
  Counter& shared = counters.With({"shared"});
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        shared.Increment();
        counters.With({"w" + std::to_string(t % 2)}).Increment(0.5);  // lookups race with each other
        histogram.Observe(i % 2 == 0 ? 1.0 : 2.0);
      }
    });
  }
  // Rendering while updating must neither crash nor break cumulative order.
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(registry.Render().empty());
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(shared.Value(), kThreads * kPerThread);
  EXPECT_EQ(counters.With({"w0"}).Value() + counters.With({"w1"}).Value(), kThreads * kPerThread * 0.5);
  EXPECT_EQ(histogram.Count(), static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(histogram.CumulativeCount(0), 0U);
  EXPECT_EQ(histogram.CumulativeCount(1), static_cast<std::uint64_t>(kThreads * kPerThread / 2));
  EXPECT_EQ(histogram.Sum(), kThreads * kPerThread * 1.5);
}

TEST(MetricsTest, CollectorsRunBeforeEveryRender) {
  Registry registry;
  Gauge& depth = registry.AddGauge("facefleet_queue_depth", "help").With({});
  int runs = 0;
  registry.AddCollector([&] { depth.Set(++runs * 10); });
  EXPECT_EQ(LineStartingWith(registry.Render(), "facefleet_queue_depth "), "facefleet_queue_depth 10");
  EXPECT_EQ(LineStartingWith(registry.Render(), "facefleet_queue_depth "), "facefleet_queue_depth 20");
  EXPECT_EQ(runs, 2);
}

TEST(MetricsDeathTest, ProgrammingErrorsAbortWithAClearMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(Registry().AddGauge("facefleet-bad", "h"), "invalid metric name.*facefleet-bad");
  EXPECT_DEATH(Registry().AddGauge("__reserved", "h"), "invalid metric name");
  EXPECT_DEATH(Registry().AddGauge("9lives", "h"), "invalid metric name");
  EXPECT_DEATH(Registry().AddCounter("facefleet_requests", "h"), "must end in _total");
  EXPECT_DEATH(Registry().AddGauge("facefleet_x", "h", {"bad-label"}), "invalid label name.*bad-label");
  EXPECT_DEATH(Registry().AddGauge("facefleet_x", "h", {"__name"}), "invalid label name");
  EXPECT_DEATH(Registry().AddGauge("facefleet_x", "h", {"a", "a"}), "duplicate label name");
  EXPECT_DEATH(Registry().AddHistogram("facefleet_x_seconds", "h", {1}, {"le"}), "label named 'le'");
  EXPECT_DEATH(Registry().AddHistogram("facefleet_x_seconds", "h", {2, 1}), "strictly increasing");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddGauge("facefleet_x", "h");
        registry.AddCounter("facefleet_x_total", "h");
        registry.AddGauge("facefleet_x", "h");
      },
      "already used.*facefleet_x");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddHistogram("facefleet_x_seconds", "h", {1});
        registry.AddGauge("facefleet_x_seconds_count", "h");
      },
      "collides with a histogram");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddGauge("facefleet_x_seconds_sum", "h");
        registry.AddHistogram("facefleet_x_seconds", "h", {1});
      },
      "already used.*facefleet_x_seconds_sum");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddGauge("facefleet_x", "h", {"a", "b"}).With({"only one"});
      },
      "wrong number of label values");
}

// Exit status and combined stdout/stderr of `promtool check metrics < file`.
struct CommandResult {
  int exit_status = -1;
  std::string output;
};

CommandResult PromtoolCheck(const std::string& promtool, const std::string& file) {
  CommandResult result;
  const std::string command = promtool + " check metrics < '" + file + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");  // NOLINT(cert-env33-c): fixed command, test-only
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

TEST(MetricsTest, PromtoolAcceptsRenderedRegistry) {
  const std::string promtool = "/usr/bin/promtool";
  if (::access(promtool.c_str(), X_OK) != 0) {
    GTEST_SKIP() << promtool << " not installed (Debian package 'prometheus'); skipping the format check";
  }
  Registry registry;
  auto& requests = registry.AddCounter("facefleet_http_requests_total", "HTTP requests.\nBy route and code \\ class.",
                                       {"route", "code"});
  requests.With({"/v1/jobs", "202"}).Increment(3);
  requests.With({"/v1/jobs/{id}", "404"}).Increment();
  requests.With({"we\"ird\\path\n", "500"}).Increment();
  registry.AddCounter("facefleet_jobs_submitted_total", "Jobs accepted.");
  registry.AddCounter("facefleet_jobs_finished_total", "Jobs finished by status.", {"status"});
  registry.AddGauge("facefleet_queue_depth", "Queued jobs.").With({}).Set(12);
  auto& workers = registry.AddGauge("facefleet_worker_busy_ratio", "Busy share of workers.", {"gpu"});
  workers.With({"0"}).Set(0.75);
  workers.With({"1"}).Set(std::numeric_limits<double>::quiet_NaN());
  registry.AddGauge("facefleet_temperature_celsius", "Temperatures.", {"sensor"})
      .With({"cold"})
      .Set(-std::numeric_limits<double>::infinity());
  auto& durations =
      registry.AddHistogram("facefleet_job_duration_seconds", "Job run time.", DurationBuckets(), {"kind"});
  for (const double v : {0.002, 0.5, 12.0, 5000.0}) durations.With({"video"}).Observe(v);
  durations.With({"image"}).Observe(0.3);
  registry.AddHistogram("facefleet_http_request_duration_seconds", "Request latency.", LatencyBuckets());

  const facefleet::testing::TempDir dir;
  const std::string file = dir.File("metrics.txt");
  const std::string text = registry.Render();
  std::ofstream(file, std::ios::binary) << text;
  const CommandResult check = PromtoolCheck(promtool, file);
  EXPECT_EQ(check.exit_status, 0) << check.output << "\n--- rendered ---\n" << text;
  EXPECT_EQ(check.output, "") << "promtool lint output:\n" << check.output << "\n--- rendered ---\n" << text;
}

}  // namespace
}  // namespace facefleet::metrics
