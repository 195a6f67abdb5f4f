// What the host counts about plugin calls, for /metrics: per `$`-method the
// calls by outcome, how many are pending, and a latency histogram from the
// dispatch on the loop to the answer; per plugin the on_connect and
// on_disconnect calls. Allocated when a plugin's methods are registered and
// touched only on the loop thread: plain integers, no locks, no allocation
// per call.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace daheim::plugin {

// How a call ended. Ok: answered (or returned nothing); Error: answered
// with the coded-error convention (reply_error, a thrown dhl::Error, an
// exception); Overloaded: refused unseen, the socket had too many calls
// pending (or the server too many); Dropped: answered after its socket had
// gone; Timeout: not answered within pluginHost.callTimeout (the client got
// {"error":"timeout"}).
enum class CallOutcome : uint8_t { Ok, Error, Overloaded, Dropped, Timeout };
inline constexpr std::size_t kCallOutcomes = 5;
std::string_view to_string(CallOutcome outcome);

// Fixed buckets from 50 µs to 10 s. Counts are per bucket (not cumulative);
// the last one is +Inf.
class LatencyHistogram {
 public:
  static constexpr std::array<int64_t, 17> kUpperNs = {
      50'000,      100'000,       250'000,       500'000,       1'000'000,     2'500'000,
      5'000'000,   10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000,
      500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
  // The same bounds in seconds, as /metrics writes them in `le`.
  static constexpr std::array<std::string_view, 17> kLe = {
      "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
      "0.05",  "0.1",    "0.25",    "0.5",    "1",     "2.5",    "5",     "10"};

  void observe(std::chrono::nanoseconds elapsed);
  const std::array<uint64_t, kUpperNs.size() + 1>& buckets() const { return buckets_; }
  uint64_t count() const { return count_; }
  double sum_seconds() const { return static_cast<double>(sum_ns_) / 1e9; }

 private:
  std::array<uint64_t, kUpperNs.size() + 1> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ns_ = 0;
};

// One `$`-method's counters.
struct CallStats {
  std::array<uint64_t, kCallOutcomes> calls{};  // by CallOutcome
  int64_t pending = 0;                          // deferred, not yet completed
  LatencyHistogram latency;                     // answered calls (Ok and Error)

  // A call dispatched at `started` ended with `outcome`.
  void finish(CallOutcome outcome, std::chrono::steady_clock::time_point started);
  void refuse(CallOutcome outcome) { ++calls[static_cast<std::size_t>(outcome)]; }
  uint64_t count(CallOutcome outcome) const { return calls[static_cast<std::size_t>(outcome)]; }
};

// One plugin's on_connect / on_disconnect calls.
struct HookStats {
  uint64_t connects = 0;
  uint64_t disconnects = 0;
};

// Everything the host counted, viewed for one /metrics scrape (valid until
// the host loads or unloads a plugin).
struct StatsView {
  struct Plugin {
    std::string_view name;
    const HookStats* hooks;
  };
  struct Method {
    std::string_view plugin;
    std::string_view name;  // "$name"
    const CallStats* stats;
  };
  std::vector<Plugin> plugins;
  std::vector<Method> methods;
  uint64_t unhandled_events = 0;  // events no method was found for
};

}  // namespace daheim::plugin
