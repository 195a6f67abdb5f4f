#include "ops/systemd_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <string>

#include "log/log.hpp"

namespace daheim::ops {
namespace {

void notify(const std::string& state) {
  int rc = sd_notify(0, state.c_str());
  if (rc < 0) log::warning("sd_notify failed: {}", -rc);
}

}  // namespace

SystemdNotifier::SystemdNotifier(loop::TimerQueue& timers)
    : watchdog_(timers, [this] { feed_watchdog(); }) {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = loop::Millis(std::max<uint64_t>(usec / 2000, 1));
    log::info("systemd watchdog: pinging every {} ms", watchdog_interval_.count());
  }
}

SystemdNotifier::~SystemdNotifier() = default;

void SystemdNotifier::ready(std::string_view status) {
  notify("READY=1\nSTATUS=" + std::string(status));
  if (watchdog_interval_.count() > 0) feed_watchdog();
}

void SystemdNotifier::status(std::string_view status) {
  notify("STATUS=" + std::string(status));
}

void SystemdNotifier::stopping() {
  watchdog_.disarm();
  notify("STOPPING=1\nSTATUS=draining connections");
}

void SystemdNotifier::reloading() {
  notify("RELOADING=1\nSTATUS=reloading");
}

// Runs on the loop: a stalled loop stops the pings and systemd restarts us.
void SystemdNotifier::feed_watchdog() {
  notify("WATCHDOG=1");
  watchdog_.arm(watchdog_interval_);
}

}  // namespace daheim::ops
