// The plugin host's /metrics families, checked as exact Prometheus text for
// known observations: cumulative buckets, _sum, _count, label escaping.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "ops/monitoring.hpp"
#include "ops/plugin_metrics.hpp"
#include "plugin/call_stats.hpp"

namespace daheim::ops {
namespace {

using namespace std::chrono_literals;
using plugin::CallOutcome;
using plugin::CallStats;
using plugin::LatencyHistogram;

TEST(LatencyHistogram, BoundsAreInclusiveAndTheLastBucketIsInf) {
  LatencyHistogram h;
  h.observe(0ns);
  h.observe(50us);
  h.observe(50001ns);
  h.observe(10s);
  h.observe(10s + 1ns);
  h.observe(-5ns);  // a clock that went back counts as 0
  const auto& b = h.buckets();
  EXPECT_EQ(b[0], 3u);
  EXPECT_EQ(b[1], 1u);
  EXPECT_EQ(b[16], 1u);
  EXPECT_EQ(b[17], 1u);
  EXPECT_EQ(h.count(), 6u);
  EXPECT_DOUBLE_EQ(h.sum_seconds(), 20.000100002);
}

TEST(MetricsWriter, HistogramSeriesAreCumulativeWithSumAndCount) {
  std::string out;
  MetricsWriter w(out);
  const std::string_view le[] = {"0.1", "1"};
  const uint64_t buckets[] = {2, 0, 3};
  w.histogram("h", {{"a", "x"}}, le, buckets, 7.25);
  w.histogram("bare", {}, le, buckets, 0);
  EXPECT_EQ(out,
            "h_bucket{a=\"x\",le=\"0.1\"} 2\n"
            "h_bucket{a=\"x\",le=\"1\"} 2\n"
            "h_bucket{a=\"x\",le=\"+Inf\"} 5\n"
            "h_sum{a=\"x\"} 7.25\n"
            "h_count{a=\"x\"} 5\n"
            "bare_bucket{le=\"0.1\"} 2\n"
            "bare_bucket{le=\"1\"} 2\n"
            "bare_bucket{le=\"+Inf\"} 5\n"
            "bare_sum 0\n"
            "bare_count 5\n");
}

TEST(MetricsWriter, LabelValuesAreEscaped) {
  std::string out;
  MetricsWriter w(out);
  w.sample("m", 1, {{"a", "q\"b\\s\nn"}, {"b", ""}});
  w.sample("m", 2, {});
  EXPECT_EQ(out, "m{a=\"q\\\"b\\\\s\\nn\",b=\"\"} 1\nm 2\n");
}

TEST(PluginMetrics, ExactTextForKnownCalls) {
  CallStats echo;
  echo.calls = {4, 1, 2, 1};  // ok, error, overloaded, dropped
  echo.pending = 2;
  for (auto d : {30us, 50us, 700us, 3000us}) echo.latency.observe(d);
  echo.latency.observe(12s);
  CallStats idle;
  plugin::HookStats hooks{3, 1};
  plugin::StatsView view;
  view.plugins = {{"alpha", &hooks}};
  view.methods = {{"alpha", "$echo", &echo}, {"alpha", "$idle", &idle}};
  view.unhandled_events = 7;

  std::string out;
  MetricsWriter w(out);
  write_plugin_metrics(w, view);

  std::string e =
      "# HELP daheim_plugin_calls_total Calls of plugins' $-methods by outcome (ok, "
      "error, overloaded, dropped).\n"
      "# TYPE daheim_plugin_calls_total counter\n";
  for (auto [method, counts] : {std::pair{"$echo", "4121"}, std::pair{"$idle", "0000"}}) {
    int i = 0;
    for (const char* o : {"ok", "error", "overloaded", "dropped"})
      e += std::string("daheim_plugin_calls_total{plugin=\"alpha\",method=\"") + method +
           "\",outcome=\"" + o + "\"} " + counts[i++] + "\n";
  }
  e += "# HELP daheim_plugin_call_duration_seconds Seconds from dispatching a call on the event "
       "loop to its answer (ok or error).\n"
       "# TYPE daheim_plugin_call_duration_seconds histogram\n";
  const char* les[] = {"5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
                       "0.005", "0.01",   "0.025",   "0.05",   "0.1",   "0.25",
                       "0.5",   "1",      "2.5",     "5",      "10",    "+Inf"};
  const int echo_cumulative[] = {2, 2, 2, 2, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5};
  const std::string echo_labels = "plugin=\"alpha\",method=\"$echo\"";
  const std::string idle_labels = "plugin=\"alpha\",method=\"$idle\"";
  for (int i = 0; i < 18; ++i)
    e += "daheim_plugin_call_duration_seconds_bucket{" + echo_labels + ",le=\"" + les[i] + "\"} " +
         std::to_string(echo_cumulative[i]) + "\n";
  e += "daheim_plugin_call_duration_seconds_sum{" + echo_labels + "} 12.00378\n";
  e += "daheim_plugin_call_duration_seconds_count{" + echo_labels + "} 5\n";
  for (const char* le : les)
    e += "daheim_plugin_call_duration_seconds_bucket{" + idle_labels + ",le=\"" + le + "\"} 0\n";
  e += "daheim_plugin_call_duration_seconds_sum{" + idle_labels + "} 0\n";
  e += "daheim_plugin_call_duration_seconds_count{" + idle_labels + "} 0\n";
  e += "# HELP daheim_plugin_calls_pending Calls a plugin deferred and has not answered yet.\n"
       "# TYPE daheim_plugin_calls_pending gauge\n"
       "daheim_plugin_calls_pending{" +
       echo_labels + "} 2\ndaheim_plugin_calls_pending{" + idle_labels + "} 0\n";
  e += "# HELP daheim_plugin_unhandled_events_total Client events no plugin has a $-method for "
       "(answered unhandled).\n"
       "# TYPE daheim_plugin_unhandled_events_total counter\n"
       "daheim_plugin_unhandled_events_total 7\n"
       "# HELP daheim_plugin_hooks_total Calls of plugins' onConnect and onDisconnect.\n"
       "# TYPE daheim_plugin_hooks_total counter\n"
       "daheim_plugin_hooks_total{plugin=\"alpha\",hook=\"connect\"} 3\n"
       "daheim_plugin_hooks_total{plugin=\"alpha\",hook=\"disconnect\"} 1\n";
  EXPECT_EQ(out, e);
}

TEST(PluginMetrics, FinishCountsTheOutcomeAndTimesOnlyAnswers) {
  CallStats s;
  auto started = std::chrono::steady_clock::now() - 2ms;
  s.finish(CallOutcome::Ok, started);
  s.finish(CallOutcome::Error, started);
  s.finish(CallOutcome::Dropped, started);
  s.refuse(CallOutcome::Overloaded);
  EXPECT_EQ(s.count(CallOutcome::Ok), 1u);
  EXPECT_EQ(s.count(CallOutcome::Error), 1u);
  EXPECT_EQ(s.count(CallOutcome::Dropped), 1u);
  EXPECT_EQ(s.count(CallOutcome::Overloaded), 1u);
  EXPECT_EQ(s.latency.count(), 2u);
  EXPECT_GE(s.latency.sum_seconds(), 0.004);
  EXPECT_EQ(s.latency.buckets()[0], 0u);  // 2 ms is above 50 µs
}

}  // namespace
}  // namespace daheim::ops
