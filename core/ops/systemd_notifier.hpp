// sd_notify integration: READY=1 once listening, STATUS= lines, STOPPING=1,
// and WATCHDOG=1 fed from the event loop at half the configured interval.
// Every call is a no-op when not started by systemd (no NOTIFY_SOCKET).
#pragma once

#include <memory>
#include <string_view>

#include "loop/timer.hpp"

namespace daheim::ops {

class SystemdNotifier {
 public:
  explicit SystemdNotifier(loop::TimerQueue& timers);
  ~SystemdNotifier();

  void ready(std::string_view status);
  void status(std::string_view status);
  void stopping();
  void reloading();

 private:
  void feed_watchdog();

  loop::Timer watchdog_;
  loop::Millis watchdog_interval_{0};
};

}  // namespace daheim::ops
