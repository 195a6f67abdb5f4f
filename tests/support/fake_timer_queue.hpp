// A TimerQueue on a fake clock for unit tests: time moves only by advance().
#pragma once

#include <algorithm>
#include <map>

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

  // Moves the clock forward, firing every timer that falls due, in order.
  void advance(loop::Millis by) {
    loop::TimePoint until = now_ + by;
    while (!due_.empty() && due_.begin()->first <= until) {
      auto it = due_.begin();
      now_ = it->first;
      loop::Timer* t = it->second;
      due_.erase(it);
      t->fire_from_queue();
    }
    now_ = until;
  }

  std::size_t pending() const { return due_.size(); }

 private:
  loop::TimePoint now_{};
  std::multimap<loop::TimePoint, loop::Timer*> due_;
};

}  // namespace daheim::testing
