// The clock and one-shot timers every layer runs on. loop::LwsTimerQueue
// implements TimerQueue on libwebsockets' scheduler (one lws_sul); tests use
// a fake clock. Header-only and pure: no libwebsockets here.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

namespace daheim::loop {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;

class TimerQueue;

// A one-shot timer. Re-arming replaces the previous deadline. Destroying an
// armed timer disarms it. Not copyable or movable (the queue keeps its address).
class Timer {
 public:
  explicit Timer(TimerQueue& queue, std::function<void()> fire)
      : queue_(queue), fire_(std::move(fire)) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(Millis delay);
  void disarm();
  bool armed() const { return armed_; }

  // Called by the queue only.
  void fire_from_queue() {
    armed_ = false;
    fire_();
  }
  // Owned by the TimerQueue implementation (LwsTimerQueue: the timer's index
  // in its heap). One word: every connection has several timers.
  std::size_t queue_slot = 0;

 private:
  TimerQueue& queue_;
  std::function<void()> fire_;
  bool armed_ = false;
};

class TimerQueue {
 public:
  virtual ~TimerQueue() = default;
  virtual TimePoint now() const = 0;
  virtual void schedule(Timer& timer, Millis delay) = 0;
  virtual void cancel(Timer& timer) = 0;
};

inline Timer::~Timer() {
  disarm();
}

inline void Timer::arm(Millis delay) {
  armed_ = true;
  queue_.schedule(*this, delay);
}

inline void Timer::disarm() {
  if (!armed_) return;
  armed_ = false;
  queue_.cancel(*this);
}

}  // namespace daheim::loop
