// The events-per-second limit of one socket: a token bucket refilled at
// `rate` per second up to `burst`. An event over the limit is refused and
// still draws a token, so the bucket goes into debt; a socket whose debt
// passes `max_debt` (it kept sending far faster than the limit) is to be
// disconnected. Sending slower than the rate pays the debt back.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "loop/timer.hpp"

namespace daheim::socketio {

struct EventRateLimit {
  uint32_t rate = 0;  // events per second; 0: no limit
  uint32_t burst = 0;
  uint32_t max_debt = 0;  // refused events (net of refill) before the disconnect
};

class EventRate {
 public:
  enum class Verdict : uint8_t { Pass, Refuse, Disconnect };

  Verdict take(const EventRateLimit& limit, loop::TimePoint now) {
    if (limit.rate == 0) return Verdict::Pass;
    refill(limit, now);
    tokens_ -= 1.0;
    if (tokens_ >= 0) return Verdict::Pass;
    return -tokens_ > static_cast<double>(limit.max_debt) ? Verdict::Disconnect : Verdict::Refuse;
  }

 private:
  void refill(const EventRateLimit& limit, loop::TimePoint now) {
    if (!started_) {
      started_ = true;
      tokens_ = limit.burst;
    } else if (now > last_) {
      double seconds = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min<double>(limit.burst, tokens_ + seconds * limit.rate);
    }
    last_ = now;
  }

  double tokens_ = 0;
  loop::TimePoint last_{};
  bool started_ = false;
};

}  // namespace daheim::socketio
