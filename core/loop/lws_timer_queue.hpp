// TimerQueue on libwebsockets' scheduler. lws_sul keeps one sorted
// linked list per thread, so scheduling there costs O(armed timers): with
// thousands of sessions each re-arming its heartbeat, the inserts dominated
// the server's CPU (BENCHMARKS.md). The queue therefore keeps its timers in a
// binary min-heap by deadline and puts a single lws_sul on lws's list, for the
// earliest deadline: O(log n) cancel, O(1) typical arm (deadlines of equal
// delays come in increasing order, so a new one stays at the bottom).
// Service thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "loop/timer.hpp"

struct lws_context;
struct ev_loop;

namespace daheim::loop {

class LwsTimerQueue final : public TimerQueue {
 public:
  LwsTimerQueue();
  ~LwsTimerQueue() override;
  LwsTimerQueue(const LwsTimerQueue&) = delete;
  LwsTimerQueue& operator=(const LwsTimerQueue&) = delete;

  // Timers armed before attach() wait for it; after detach() (before the
  // lws context goes) nothing reaches lws any more. With `libev`, the queue
  // wakes up on an ev_timer of its own instead of an lws_sul: lws 4.1's libev
  // glue cannot move its timer earlier, so a sul due before the one it armed
  // fires late (BENCHMARKS.md).
  void attach(lws_context* context, struct ev_loop* libev = nullptr);
  void detach();

  TimePoint now() const override { return Clock::now(); }
  void schedule(Timer& timer, Millis delay) override;
  void cancel(Timer& timer) override;
  Micros remaining(const Timer& timer) const override;

  std::size_t armed() const { return heap_.size(); }
  // Runs after each batch of timers fired.
  void set_after_expire(std::function<void()> hook) { after_expire_ = std::move(hook); }
  // Fires every timer that is due; called from the lws_sul.
  void expire();
  // The same when one is due (the loop may serve I/O before its timers):
  // a request then finds what its deadlines did (a session past its
  // heartbeat closed).
  void expire_due();
  struct Wakeup;  // the lws_sul and a back-pointer, kept out of this header

 private:
  struct Entry {
    std::int64_t deadline_us;
    Timer* timer;
  };

  bool contains(const Timer& timer) const;
  void place(std::size_t i, Entry entry);
  void sift_up(std::size_t i, Entry entry);
  void sift_down(std::size_t i, Entry entry);
  void remove_at(std::size_t i);
  void rearm_wakeup();
  void set_wakeup(std::int64_t in_us);
  void clear_wakeup();

  lws_context* context_ = nullptr;
  struct ev_loop* libev_ = nullptr;
  std::vector<Entry> heap_;
  std::unique_ptr<Wakeup> wakeup_;
  std::int64_t wakeup_at_us_ = -1;  // deadline the wakeup is set for, -1 when none
  bool expiring_ = false;
  Entry firing_{-1, nullptr};  // the timer whose callback runs, and its deadline
  std::function<void()> after_expire_;
};

}  // namespace daheim::loop
