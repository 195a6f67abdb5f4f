#include "plugin/call_stats.hpp"

namespace daheim::plugin {

std::string_view to_string(CallOutcome outcome) {
  switch (outcome) {
    case CallOutcome::Ok:
      return "ok";
    case CallOutcome::Error:
      return "error";
    case CallOutcome::Overloaded:
      return "overloaded";
    case CallOutcome::Timeout:
      return "timeout";
    case CallOutcome::Dropped:
      return "dropped";
  }
  return "unknown";
}

void LatencyHistogram::observe(std::chrono::nanoseconds elapsed) {
  int64_t ns = elapsed.count() < 0 ? 0 : elapsed.count();
  std::size_t i = 0;
  while (i < kUpperNs.size() && ns > kUpperNs[i]) ++i;
  ++buckets_[i];
  ++count_;
  sum_ns_ += static_cast<uint64_t>(ns);
}

void CallStats::finish(CallOutcome outcome, std::chrono::steady_clock::time_point started) {
  ++calls[static_cast<std::size_t>(outcome)];
  if (outcome == CallOutcome::Ok || outcome == CallOutcome::Error)
    latency.observe(std::chrono::steady_clock::now() - started);
}

}  // namespace daheim::plugin
