// A TimerQueue on a fake clock for unit tests: time moves only by advance().
#pragma once

#include <algorithm>
#include <map>
#include <utility>

#include "loop/timer.hpp"

namespace daheim::testing {

class FakeTimerQueue final : public loop::TimerQueue {
 public:
  loop::TimePoint now() const override { return now_; }

  void schedule(loop::Timer& timer, loop::Millis delay) override {
    cancel(timer);
    due_.emplace(now_ + delay, &timer);
  }

  void cancel(loop::Timer& timer) override {
    for (auto it = due_.begin(); it != due_.end(); ++it) {
      if (it->second == &timer) {
        due_.erase(it);
        return;
      }
    }
  }

  loop::Micros remaining(const loop::Timer& timer) const override {
    for (const auto& [due, t] : due_)
      if (t == &timer) return std::chrono::duration_cast<loop::Micros>(due - now_);
    if (&timer == firing_.second)
      return std::chrono::duration_cast<loop::Micros>(firing_.first - now_);
    return loop::Micros::zero();
  }

  // Moves the clock forward, firing every timer that falls due, in order
  // (each at its deadline, or at once when stall() left it overdue).
  void advance(loop::Millis by) {
    loop::TimePoint until = now_ + by;
    while (!due_.empty() && due_.begin()->first <= until) {
      auto it = due_.begin();
      now_ = std::max(now_, it->first);
      firing_ = *it;
      due_.erase(it);
      firing_.second->fire_from_queue();
    }
    firing_ = {};
    now_ = until;
  }

  // Moves the clock forward without firing anything: the loop was busy, and
  // what fell due is overdue until the next advance().
  void stall(loop::Millis by) { now_ += by; }

  std::size_t pending() const { return due_.size(); }

 private:
  loop::TimePoint now_{};
  std::multimap<loop::TimePoint, loop::Timer*> due_;
  std::pair<loop::TimePoint, loop::Timer*> firing_{};  // the timer whose callback runs
};

}  // namespace daheim::testing
