#include "loop/lws_timer_queue.hpp"

#include <libwebsockets.h>

#define EV_COMPAT3 0
#include <ev.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace daheim::loop {

struct LwsTimerQueue::Wakeup {
  lws_sorted_usec_list_t sul;  // first member: the callback casts back
  LwsTimerQueue* queue;
  ev_timer timer;  // instead of the sul on libev; data is the queue
};

namespace {

void on_wakeup(lws_sorted_usec_list_t* sul) {
  static_assert(offsetof(LwsTimerQueue::Wakeup, sul) == 0);
  reinterpret_cast<LwsTimerQueue::Wakeup*>(sul)->queue->expire();
}

}  // namespace

LwsTimerQueue::LwsTimerQueue() : wakeup_(std::make_unique<Wakeup>()) {
  std::memset(&wakeup_->sul, 0, sizeof wakeup_->sul);
  wakeup_->queue = this;
  ev_timer_init(
      &wakeup_->timer,
      [](struct ev_loop*, ev_timer* w, int) { static_cast<LwsTimerQueue*>(w->data)->expire(); }, 0.,
      0.);
  wakeup_->timer.data = this;
}

LwsTimerQueue::~LwsTimerQueue() {
  detach();
}

void LwsTimerQueue::attach(lws_context* context, struct ev_loop* libev) {
  context_ = context;
  libev_ = libev;
  rearm_wakeup();
}

void LwsTimerQueue::detach() {
  if (context_ && wakeup_at_us_ >= 0) clear_wakeup();
  wakeup_at_us_ = -1;
  context_ = nullptr;
  libev_ = nullptr;
}

bool LwsTimerQueue::contains(const Timer& timer) const {
  std::size_t i = timer.queue_slot;
  return i < heap_.size() && heap_[i].timer == &timer;
}

void LwsTimerQueue::place(std::size_t i, Entry entry) {
  heap_[i] = entry;
  entry.timer->queue_slot = i;  // the Timer's slot holds its heap index
}

void LwsTimerQueue::sift_up(std::size_t i, Entry entry) {
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (heap_[parent].deadline_us <= entry.deadline_us) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, entry);
}

void LwsTimerQueue::sift_down(std::size_t i, Entry entry) {
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1].deadline_us < heap_[child].deadline_us) ++child;
    if (entry.deadline_us <= heap_[child].deadline_us) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, entry);
}

void LwsTimerQueue::remove_at(std::size_t i) {
  Entry last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;
  if (i > 0 && last.deadline_us < heap_[(i - 1) / 2].deadline_us)
    sift_up(i, last);
  else
    sift_down(i, last);
}

void LwsTimerQueue::schedule(Timer& timer, Millis delay) {
  // At least 1 µs ahead, so a timer re-armed with no delay from its own
  // callback fires on the next wakeup rather than in the same expire().
  std::int64_t deadline = lws_now_usecs() + std::max<std::int64_t>(delay.count() * 1000, 1);
  if (contains(timer)) remove_at(timer.queue_slot);
  heap_.push_back({});
  sift_up(heap_.size() - 1, {deadline, &timer});
  rearm_wakeup();
}

void LwsTimerQueue::cancel(Timer& timer) {
  if (!contains(timer)) return;
  remove_at(timer.queue_slot);
  rearm_wakeup();
}

Micros LwsTimerQueue::remaining(const Timer& timer) const {
  std::int64_t now = lws_now_usecs();
  std::int64_t deadline = now;
  if (contains(timer))
    deadline = heap_[timer.queue_slot].deadline_us;
  else if (&timer == firing_.timer)
    deadline = firing_.deadline_us;
  return Micros(deadline - now);
}

void LwsTimerQueue::expire() {
  wakeup_at_us_ = -1;
  const std::int64_t now = lws_now_usecs();
  expiring_ = true;
  while (!heap_.empty() && heap_.front().deadline_us <= now) {
    firing_ = heap_.front();
    remove_at(0);
    firing_.timer->fire_from_queue();  // may arm, cancel or destroy any timer, this one too
  }
  firing_ = {-1, nullptr};
  expiring_ = false;
  rearm_wakeup();
  if (after_expire_) after_expire_();
  // lws's libev glue runs its own due suls (a connection killed with
  // lws_set_timeout(), say) only after I/O or at the time its timer was
  // armed for: wake it, as the timers may have scheduled some.
  if (libev_ && context_) lws_cancel_service(context_);
}

void LwsTimerQueue::expire_due() {
  if (!expiring_ && !heap_.empty() && heap_.front().deadline_us <= lws_now_usecs()) expire();
}

// Keeps the one wakeup on the earliest deadline; lws's list is touched only
// when that changes.
void LwsTimerQueue::rearm_wakeup() {
  if (expiring_) return;
  if (heap_.empty()) {
    if (wakeup_at_us_ >= 0) clear_wakeup();
    wakeup_at_us_ = -1;
    return;
  }
  std::int64_t earliest = heap_.front().deadline_us;
  if (earliest == wakeup_at_us_ || !context_) return;
  std::int64_t in_us = earliest - lws_now_usecs();
  set_wakeup(in_us > 0 ? in_us : 1);
  wakeup_at_us_ = earliest;
}

void LwsTimerQueue::set_wakeup(std::int64_t in_us) {
  if (!libev_) {
    lws_sul_schedule(context_, 0, &wakeup_->sul, on_wakeup, in_us);
    return;
  }
  // libev measures from the loop's cached time: refresh it, as a timer
  // firing early only re-arms for the rest.
  ev_now_update(libev_);
  ev_timer_stop(libev_, &wakeup_->timer);
  ev_timer_set(&wakeup_->timer, static_cast<double>(in_us) / 1e6, 0.);
  ev_timer_start(libev_, &wakeup_->timer);
}

void LwsTimerQueue::clear_wakeup() {
  if (libev_)
    ev_timer_stop(libev_, &wakeup_->timer);
  else
    lws_sul_cancel(&wakeup_->sul);
}

}  // namespace daheim::loop
