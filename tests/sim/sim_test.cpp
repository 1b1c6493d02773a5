// facefleet-sim: the HPA algorithm against the Kubernetes docs, the queueing core against Erlang C, determinism,
// KEDA activation and graceful drain.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/hpa.hpp"
#include "sim/rng.hpp"
#include "sim/simulator.hpp"
#include "sim/study.hpp"
#include "sim/svg.hpp"
#include "sim/trace.hpp"

namespace facefleet::sim {
namespace {

// Kubernetes docs: "if the current metric value is 200m, and the desired value is 100m, the number of replicas
// will be doubled ... If the current value is instead 50m, you'll halve the number of replicas".
TEST(HpaFormulaTest, MatchesTheDocumentedExamples) {
  EXPECT_EQ(HpaDesiredReplicas(1, 0.200, 0.100, 0.1), 2);
  EXPECT_EQ(HpaDesiredReplicas(4, 0.200, 0.100, 0.1), 8);
  EXPECT_EQ(HpaDesiredReplicas(4, 0.050, 0.100, 0.1), 2);
  EXPECT_EQ(HpaDesiredReplicas(3, 0.7, 0.7, 0.1), 3);
  EXPECT_EQ(HpaDesiredReplicas(3, 1.0, 0.6, 0.1), 5);  // ceil(3 × 1.667)
}

TEST(HpaFormulaTest, NoChangeWithinTheTolerance) {
  EXPECT_EQ(HpaDesiredReplicas(3, 0.105, 0.100, 0.1), 3);  // ratio 1.05
  EXPECT_EQ(HpaDesiredReplicas(3, 0.091, 0.100, 0.1), 3);  // ratio 0.91
  EXPECT_EQ(HpaDesiredReplicas(3, 0.111, 0.100, 0.1), 4);  // ratio 1.11: ceil(3.33)
  EXPECT_EQ(HpaDesiredReplicas(10, 0.089, 0.100, 0.1), 9);
}

TEST(HpaFormulaTest, AverageValueIsQueueOverTarget) {
  // serving-facts.md: "queue 20 with target 5 gives 4 replicas".
  EXPECT_EQ(HpaAverageValueReplicas(1, 20, 5, 0.1), 4);
  EXPECT_EQ(HpaAverageValueReplicas(4, 21, 5, 0.1), 4);  // ratio 1.05: within the tolerance
  EXPECT_EQ(HpaAverageValueReplicas(4, 0, 5, 0.1), 0);   // minReplicas clamps later
  EXPECT_EQ(HpaAverageValueReplicas(0, 3, 1, 0.1), 3);   // from zero (HPAScaleToZero)
  EXPECT_EQ(HpaAverageValueReplicas(0, 0, 1, 0.1), 0);
}

TEST(HpaControllerTest, DefaultScaleUpPolicyAllowsMaxOfDoubleOrFourPodsPer15s) {
  HpaConfig config;
  config.max_replicas = 100;
  HpaController hpa(config);
  EXPECT_EQ(hpa.Sync(0, 1, 20), 5);    // max(1 × 2, 1 + 4)
  EXPECT_EQ(hpa.Sync(15, 5, 20), 10);  // max(5 × 2, 5 + 4)
  EXPECT_EQ(hpa.Sync(30, 10, 20), 20);
  EXPECT_EQ(hpa.Sync(45, 20, 200), 40);
  EXPECT_EQ(hpa.Sync(60, 40, 200), 80);
  EXPECT_EQ(hpa.Sync(75, 80, 200), 100);  // maxReplicas
}

TEST(HpaControllerTest, ScaleDownWaitsForTheStabilisationWindow) {
  HpaConfig config;
  config.min_replicas = 1;
  HpaController hpa(config);
  EXPECT_EQ(hpa.Sync(0, 4, 4), 4);
  for (double t = 15; t < 300; t += 15) EXPECT_EQ(hpa.Sync(t, 4, 1), 4) << "t=" << t;
  EXPECT_EQ(hpa.Sync(300, 4, 1), 1);  // the last "4" is now older than 300 s
  EXPECT_EQ(hpa.Sync(315, 1, 0), 1);  // minReplicas
}

TEST(HpaControllerTest, ScaleDownPolicyLimitsTheRate) {
  HpaConfig config;
  config.min_replicas = 0;
  config.behavior.scale_down = {0, HpaSelectPolicy::kMax, {{HpaPolicyType::kPods, 2, 60}}};
  HpaController hpa(config);
  EXPECT_EQ(hpa.Sync(0, 10, 0), 8);
  EXPECT_EQ(hpa.Sync(15, 8, 0), 8);  // 2 pods per 60 s already used
  EXPECT_EQ(hpa.Sync(60, 8, 0), 6);
}

double ErlangCMeanWait(int servers, double arrival_rate, double service_rate) {
  const double a = arrival_rate / service_rate;
  double term = 1;  // a^k / k!
  double sum = 0;
  for (int k = 0; k < servers; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  const double tail = term * servers / (servers - a);
  const double p_wait = tail / (sum + tail);
  return p_wait / (servers * service_rate - arrival_rate);
}

// Poisson arrivals, exponential service, c warm servers: the simulator's mean queue wait is Erlang C's.
TEST(SimulatorTest, MmcQueueMatchesErlangC) {
  constexpr int kServers = 4;
  constexpr double kArrivalRate = 0.1;  // per second
  constexpr double kMeanService = 30;   // seconds: load 3 Erlang, utilisation 0.75
  constexpr int kJobs = 500000;         // sampling error of the mean wait ~2 % (1 sigma); 0.7 s
  Rng rng(7, 0);
  std::vector<Job> jobs;
  double t = 0;
  for (int i = 0; i < kJobs; ++i) {
    t += rng.Exponential(kArrivalRate);
    jobs.push_back({t, rng.Exponential(1 / kMeanService)});
  }
  PolicyConfig policy;
  policy.kind = PolicyKind::kAlwaysOn;
  policy.always_on_replicas = kServers;
  RunOptions options;
  options.horizon_s = t + 1;
  options.sample_interval_s = 3600;
  const PolicyResult result = RunPolicy(jobs, policy, ClusterConfig{}, options);
  const double expected = ErlangCMeanWait(kServers, kArrivalRate, 1 / kMeanService);  // 15.28 s
  EXPECT_NEAR(expected, 15.28, 0.01);
  EXPECT_EQ(result.jobs, kJobs);
  EXPECT_EQ(result.jobs_unserved, 0);
  EXPECT_NEAR(result.wait_mean_s, expected, 0.05 * expected);
  EXPECT_EQ(result.cold_node_starts, 0);
}

StudyConfig SmallStudy(std::uint64_t seed) {
  StudyConfig config;
  config.trace.kind = TraceKind::kBursty;
  config.trace.hours = 12;
  config.seed = seed;
  config.prices = {{"T4", 0.526}, {"L4", 0.8048}};
  config.sweep_cooldowns_s = {60, 300};
  return config;
}

TEST(StudyTest, SameSeedGivesByteIdenticalOutputAndAnotherSeedDiffers) {
  const Result<StudyOutput> a = RunStudy(SmallStudy(3));
  const Result<StudyOutput> b = RunStudy(SmallStudy(3));
  const Result<StudyOutput> c = RunStudy(SmallStudy(4));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->markdown, b->markdown);
  EXPECT_EQ(a->timeline_svg, b->timeline_svg);
  EXPECT_EQ(a->tradeoff_svg, b->tradeoff_svg);
  EXPECT_NE(a->markdown, c->markdown);
  EXPECT_NE(a->timeline_svg, c->timeline_svg);
  EXPECT_NE(a->markdown.find("| keda-prewarm |"), std::string::npos);
  EXPECT_EQ(a->timeline_svg.rfind("<svg ", 0), 0U);
}

PolicyConfig KedaPolicy() {
  PolicyConfig policy;
  policy.kind = PolicyKind::kKeda;
  policy.keda.lag_count = 1;
  return policy;
}

RunOptions ShortRun(double horizon_s) {
  RunOptions options;
  options.horizon_s = horizon_s;
  options.drain_limit_s = 3600;
  options.sample_interval_s = 10;
  return options;
}

TEST(KedaTest, LagAtOrBelowActivationLagCountKeepsTheDeploymentAtZero) {
  PolicyConfig policy = KedaPolicy();
  policy.keda.activation_lag_count = 3;
  const std::vector<Job> three = {{100, 20}, {110, 20}, {120, 20}};
  const PolicyResult idle = RunPolicy(three, policy, ClusterConfig{}, ShortRun(3600));
  EXPECT_EQ(idle.max_replicas, 0);
  EXPECT_EQ(idle.cold_node_starts, 0);
  EXPECT_EQ(idle.gpu_hours, 0);
  EXPECT_EQ(idle.jobs_unserved, 3);

  std::vector<Job> four = three;
  four.push_back({130, 20});  // lag 4 > 3: active
  const PolicyResult woken = RunPolicy(four, policy, ClusterConfig{}, ShortRun(3600));
  EXPECT_GE(woken.max_replicas, 1);
  EXPECT_EQ(woken.jobs_unserved, 0);
}

TEST(KedaTest, ScaleToZeroLetsTheRunningJobFinish) {
  // Lag-only trigger: once the one long job is taken, lag is 0, so KEDA scales to zero after the cooldown while
  // the job still runs. The worker must drain, not die.
  PolicyConfig policy = KedaPolicy();
  policy.keda.cooldown_period_s = 60;
  const std::vector<Job> jobs = {{10, 3600}};
  const PolicyResult result = RunPolicy(jobs, policy, ClusterConfig{}, ShortRun(2 * 3600));
  ASSERT_EQ(result.job_records.size(), 1U);
  const JobRecord& job = result.job_records[0];
  ASSERT_GE(job.start_s, 0);
  EXPECT_DOUBLE_EQ(job.finish_s, job.start_s + 3600);
  bool scaled_to_zero_mid_job = false;
  for (const Sample& s : result.timeline) {
    if (s.t_s <= job.start_s || s.t_s + 10 >= job.finish_s) continue;
    EXPECT_EQ(s.ready_workers, 1) << "t=" << s.t_s;
    EXPECT_EQ(s.billed_nodes, 1) << "t=" << s.t_s;
    scaled_to_zero_mid_job = scaled_to_zero_mid_job || s.replicas == 0;
  }
  EXPECT_TRUE(scaled_to_zero_mid_job);
  EXPECT_GE(result.gpu_hours * 3600, job.finish_s - job.arrival_s);
}

TEST(KedaTest, PendingEntriesTriggerKeepsTheWorkerDuringTheJob) {
  PolicyConfig policy = KedaPolicy();
  policy.keda.cooldown_period_s = 60;
  policy.keda.pending_entries_count = 1;
  const PolicyResult result = RunPolicy({{10, 3600}}, policy, ClusterConfig{}, ShortRun(2 * 3600));
  const JobRecord& job = result.job_records.at(0);
  for (const Sample& s : result.timeline) {
    if (s.t_s > job.start_s && s.t_s + 10 < job.finish_s) {
      EXPECT_EQ(s.replicas, 1) << "t=" << s.t_s;
    }
  }
}

TEST(KedaTest, ColdStartFromZeroTakesNodeImageAndModelTime) {
  const ClusterConfig cluster;
  const PolicyResult result = RunPolicy({{0.5, 10}}, KedaPolicy(), cluster, ShortRun(3600));
  const double cold = cluster.node_provision_s + cluster.image_pull_s + cluster.model_load_s;
  // + up to one KEDA poll (30 s) and one CA scan (10 s).
  EXPECT_GE(result.wait_max_s, cold);
  EXPECT_LE(result.wait_max_s, cold + 30 + 10 + 1);
  EXPECT_EQ(result.image_pulls, 1);
}

TEST(TraceTest, DiurnalNightsAreEmptyAndCsvParses) {
  TraceSpec spec;
  spec.hours = 24;
  const Result<std::vector<Job>> jobs = MakeTrace(spec, ServiceModel{}, 1);
  ASSERT_TRUE(jobs.ok());
  ASSERT_FALSE(jobs->empty());
  for (const Job& job : *jobs) {
    const double hour = job.arrival_s / 3600;
    EXPECT_TRUE(hour >= spec.day_start_h && hour < spec.day_end_h) << hour;
    EXPECT_GT(job.service_s, 0);
  }
  EXPECT_EQ(DiurnalRate(spec, 3 * 3600), 0);

  const Result<std::vector<Job>> csv = ParseCsvTrace("arrival_s,duration_s\n5,2\n# note\n1.5,30\n", "t.csv");
  ASSERT_TRUE(csv.ok());
  ASSERT_EQ(csv->size(), 2U);
  EXPECT_EQ((*csv)[0].arrival_s, 1.5);
  EXPECT_EQ((*csv)[1].service_s, 2);
  EXPECT_FALSE(ParseCsvTrace("1,2\nx,3\n", "t.csv").ok());
  EXPECT_FALSE(ParseCsvTrace("1,-2\n", "t.csv").ok());
}

TEST(StudyTest, ParsesPricesAndNames) {
  const Result<GpuPrice> named = ParseGpuPrice("T4 spot=0.19");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->name, "T4 spot");
  EXPECT_EQ(named->usd_per_hour, 0.19);
  EXPECT_TRUE(ParseGpuPrice("0.8048").ok());
  EXPECT_FALSE(ParseGpuPrice("L4=").ok());
  EXPECT_FALSE(ParseGpuPrice("-1").ok());
  EXPECT_FALSE(ParseTraceName("weekly").ok());
  EXPECT_TRUE(ParseTraceName("csv:/tmp/x.csv").ok());
  EXPECT_FALSE(ParsePolicyName("hpa").ok());
  EXPECT_EQ(EscapeXml("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
}

}  // namespace
}  // namespace facefleet::sim
