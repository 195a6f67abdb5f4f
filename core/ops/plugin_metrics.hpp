// The plugin host's families in /metrics:
//
//   daheim_plugin_calls_total{plugin,method,outcome}   counter; outcome is
//       ok, error, overloaded or dropped (plugin/call_stats.hpp)
//   daheim_plugin_call_duration_seconds{plugin,method} histogram, dispatch
//       on the loop to the answer, for calls answered ok or error
//   daheim_plugin_calls_pending{plugin,method}         gauge, deferred calls
//   daheim_plugin_unhandled_events_total               counter, events no
//       plugin has a `$`-method for (the event name is the client's: no label)
//   daheim_plugin_hooks_total{plugin,hook}             counter, on_connect /
//       on_disconnect calls
//
// Every registered method has every series, zeros included.
#pragma once

#include "ops/monitoring.hpp"
#include "plugin/call_stats.hpp"

namespace daheim::ops {

void write_plugin_metrics(MetricsWriter& w, const plugin::StatsView& stats);

}  // namespace daheim::ops
