#include "ops/plugin_metrics.hpp"

#include <iterator>

namespace daheim::ops {
namespace {

using plugin::CallOutcome;
using plugin::LatencyHistogram;

constexpr CallOutcome kOutcomes[] = {CallOutcome::Ok, CallOutcome::Error, CallOutcome::Overloaded,
                                     CallOutcome::Dropped};
static_assert(std::size(kOutcomes) == plugin::kCallOutcomes);
static_assert(LatencyHistogram::kLe.size() == LatencyHistogram::kUpperNs.size());

void write_calls(MetricsWriter& w, const plugin::StatsView& stats) {
  w.family("daheim_plugin_calls_total", "counter",
           "Calls of plugins' $-methods by outcome (ok, error, overloaded, dropped).");
  for (const auto& m : stats.methods)
    for (CallOutcome o : kOutcomes)
      w.sample("daheim_plugin_calls_total", static_cast<double>(m.stats->count(o)),
               {{"plugin", m.plugin}, {"method", m.name}, {"outcome", plugin::to_string(o)}});
}

void write_latency(MetricsWriter& w, const plugin::StatsView& stats) {
  w.family("daheim_plugin_call_duration_seconds", "histogram",
           "Seconds from dispatching a call on the event loop to its answer (ok or error).");
  for (const auto& m : stats.methods) {
    const LatencyHistogram& h = m.stats->latency;
    w.histogram("daheim_plugin_call_duration_seconds", {{"plugin", m.plugin}, {"method", m.name}},
                LatencyHistogram::kLe, h.buckets(), h.sum_seconds());
  }
}

void write_pending(MetricsWriter& w, const plugin::StatsView& stats) {
  w.family("daheim_plugin_calls_pending", "gauge",
           "Calls a plugin deferred and has not answered yet.");
  for (const auto& m : stats.methods)
    w.sample("daheim_plugin_calls_pending", static_cast<double>(m.stats->pending),
             {{"plugin", m.plugin}, {"method", m.name}});
}

void write_unhandled(MetricsWriter& w, const plugin::StatsView& stats) {
  w.family("daheim_plugin_unhandled_events_total", "counter",
           "Client events no plugin has a $-method for (answered unhandled).");
  w.sample("daheim_plugin_unhandled_events_total", static_cast<double>(stats.unhandled_events));
}

void write_hooks(MetricsWriter& w, const plugin::StatsView& stats) {
  w.family("daheim_plugin_hooks_total", "counter", "Calls of plugins' onConnect and onDisconnect.");
  for (const auto& p : stats.plugins) {
    w.sample("daheim_plugin_hooks_total", static_cast<double>(p.hooks->connects),
             {{"plugin", p.name}, {"hook", "connect"}});
    w.sample("daheim_plugin_hooks_total", static_cast<double>(p.hooks->disconnects),
             {{"plugin", p.name}, {"hook", "disconnect"}});
  }
}

}  // namespace

void write_plugin_metrics(MetricsWriter& w, const plugin::StatsView& stats) {
  write_calls(w, stats);
  write_latency(w, stats);
  write_pending(w, stats);
  write_unhandled(w, stats);
  write_hooks(w, stats);
}

}  // namespace daheim::ops
