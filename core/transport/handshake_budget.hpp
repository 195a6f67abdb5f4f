// The server-wide handshake budget (engineio.handshakesPerSecond): new
// Engine.IO sessions per second with a burst, a token bucket. A handshake
// over it waits in a bounded queue (engineio.maxHandshakesWaiting) for at
// most engineio.maxHandshakeWait, first come first served, and is refused
// when the queue is full or its wait ran out. Pure: the endpoint parks the
// connections and asks release() when next_release() says.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "loop/timer.hpp"

namespace daheim::transport {

struct HandshakeBudgetOptions {
  uint32_t per_second = 2000;  // 0: no limit
  uint32_t burst = 2000;       // handshakes at once before the rate applies
  std::size_t max_waiting = 20000;
  loop::Millis max_wait{10000};  // 0: refuse instead of waiting
};

class HandshakeBudget {
 public:
  enum class Verdict : uint8_t { Admit, Wait, Refuse };
  struct Released {
    std::vector<uint64_t> admitted;  // in the order they came
    std::vector<uint64_t> expired;   // waited max_wait: to refuse
  };
  struct Stats {
    uint64_t admitted = 0;         // at once or after a wait
    uint64_t waited = 0;           // queued at least once
    uint64_t refused_full = 0;     // the queue was full
    uint64_t refused_expired = 0;  // waited max_wait
  };

  explicit HandshakeBudget(HandshakeBudgetOptions options = {}, loop::TimePoint now = {});

  // A new handshake `id` (ids only grow). Admit: a token was taken.
  Verdict request(uint64_t id, loop::TimePoint now);
  // What request() would answer, nothing taken or queued (Wait or Refuse
  // for a handshake that cannot go at once).
  Verdict check(loop::TimePoint now);
  // A handshake refused on check()'s word (a WebSocket before its upgrade).
  void count_refusal() { ++stats_.refused_full; }
  // A waiting handshake whose client went away.
  void cancel(uint64_t id);
  // Admits waiting handshakes while tokens last; expires those past their wait.
  Released release(loop::TimePoint now);
  // When release() has something to do; nullopt while nothing waits.
  std::optional<loop::Millis> next_release(loop::TimePoint now);
  // Seconds a refused client should wait (the Retry-After hint): until the
  // queue ahead of it would have drained, at least 1.
  uint32_t retry_after_seconds() const;

  std::size_t waiting() const { return waiting_.size(); }
  const Stats& stats() const { return stats_; }
  const HandshakeBudgetOptions& options() const { return options_; }

 private:
  void refill(loop::TimePoint now);
  bool take();

  HandshakeBudgetOptions options_;
  double tokens_;
  loop::TimePoint last_;
  std::map<uint64_t, loop::TimePoint> waiting_;  // id -> deadline; ids in arrival order
  Stats stats_;
};

}  // namespace daheim::transport
