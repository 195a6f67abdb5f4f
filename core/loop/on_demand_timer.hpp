// A timer that most of its owners never arm (an upgrade's deadline, a held
// GET's look for EOF): the Timer is allocated on the first arm() and freed
// by release(), so an owner that never arms it keeps one pointer, 8 bytes,
// where a Timer is 40. It fires (owner.*Fire)().
#pragma once

#include <memory>

#include "loop/timer.hpp"

namespace daheim::loop {

template <class Owner, void (Owner::*Fire)()>
class OnDemandTimer {
 public:
  OnDemandTimer() = default;
  OnDemandTimer(const OnDemandTimer&) = delete;
  OnDemandTimer& operator=(const OnDemandTimer&) = delete;

  // Allocates the timer if there is none, then arms it (re-arming replaces
  // the deadline). `owner` and `queue` must be the same at every call.
  void arm(Owner& owner, TimerQueue& queue, Millis delay) {
    if (!timer_) timer_ = std::make_unique<Timer>(queue, [&owner] { (owner.*Fire)(); });
    timer_->arm(delay);
  }
  // Stops it and gives its memory back. May be called from (owner.*Fire)()
  // itself: the timer touches nothing of its own once that call returns.
  void release() { timer_.reset(); }
  bool armed() const { return timer_ && timer_->armed(); }
  // The Timer is allocated (armed once and not released since).
  bool allocated() const { return timer_ != nullptr; }

 private:
  std::unique_ptr<Timer> timer_;
};

}  // namespace daheim::loop
