// At most one broadcast (or state read) per interval, for the presence
// plugin's `online` / `readyUsers` and a cluster node's reads of the state.
// Loop thread only.
#pragma once

#include <daheim/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>

namespace presence {

// At most one broadcast per interval: the first change goes out at once, the
// changes within the interval after it go out together when it ends. `send`
// answers whether it sent something (it skips what equals the last one).
class Coalescer {
 public:
  Coalescer(const dhl::Host& host, uint64_t interval_ms, std::function<bool(bool force)> send)
      : host_(host),
        interval_(interval_ms),
        send_(std::move(send)),
        timer_(host, [this] { fire(); }) {}

  // Asks for a broadcast; true when it went out now.
  bool request(bool force = false) {
    force_ = force_ || force;
    if (pending_) return false;
    uint64_t now = host_.now_ms();
    if (!sent_ || now - last_ >= interval_) return fire();
    pending_ = true;
    timer_.arm(std::chrono::milliseconds(last_ + interval_ - now));
    return false;
  }

 private:
  bool fire() {
    pending_ = false;
    bool force = std::exchange(force_, false);
    if (!send_(force)) return false;
    sent_ = true;
    last_ = host_.now_ms();
    return true;
  }

  const dhl::Host& host_;
  uint64_t interval_;
  std::function<bool(bool)> send_;
  bool pending_ = false;
  bool force_ = false;
  bool sent_ = false;
  uint64_t last_ = 0;
  dhl::Timer timer_;  // last: destroyed first
};

}  // namespace presence
