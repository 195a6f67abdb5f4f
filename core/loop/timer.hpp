// The clock and one-shot timers every layer runs on. loop::LwsTimerQueue
// implements TimerQueue on libwebsockets' scheduler (one lws_sul); tests use
// a fake clock. Header-only and pure: no libwebsockets here.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace daheim::loop {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;
using Micros = std::chrono::microseconds;

class TimerQueue;

// A one-shot timer. Re-arming replaces the previous deadline. Destroying an
// armed timer disarms it. Not copyable or movable (the queue keeps its address).
// A callable of one trivially copyable word (a lambda capturing `this`, the
// usual case) is kept in the timer itself; a larger one goes to the heap.
// 40 bytes: every connection has several timers.
class Timer {
 public:
  template <typename F>
  Timer(TimerQueue& queue, F fire) : queue_(queue) {
    if constexpr (fits_inline<F>()) {
      ::new (static_cast<void*>(&store_)) F(std::move(fire));
      invoke_ = [](Store& s) { (*std::launder(reinterpret_cast<F*>(&s)))(); };
    } else {
      store_.heap = new std::function<void()>(std::move(fire));
      invoke_ = &call_heap;
    }
  }
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(Millis delay);
  void disarm();
  bool armed() const { return armed_; }
  // The queue it runs on (an owner with a timer need not keep it too).
  TimerQueue& queue() const { return queue_; }
  // Time left until the deadline, negative when overdue (the loop has not
  // got to the timer yet). Inside the timer's own callback, before it is
  // armed again: how late it fired (zero or negative). Else zero.
  Micros remaining() const;

  // Called by the queue only.
  void fire_from_queue() {
    armed_ = false;
    invoke_(store_);
  }
  // Owned by the TimerQueue implementation (LwsTimerQueue: the timer's index
  // in its heap). One word: every connection has several timers.
  std::size_t queue_slot = 0;

 private:
  union Store {
    void* word;
    std::function<void()>* heap;
  };
  template <typename F>
  static constexpr bool fits_inline() {
    bool trivial = std::is_trivially_copyable_v<F> && std::is_trivially_destructible_v<F>;
    return trivial && sizeof(F) <= sizeof(Store) && alignof(F) <= alignof(Store);
  }
  static void call_heap(Store& s) { (*s.heap)(); }

  TimerQueue& queue_;
  void (*invoke_)(Store&);
  Store store_;
  bool armed_ = false;
};

class TimerQueue {
 public:
  virtual ~TimerQueue() = default;
  virtual TimePoint now() const = 0;
  virtual void schedule(Timer& timer, Millis delay) = 0;
  virtual void cancel(Timer& timer) = 0;
  // Timer::remaining().
  virtual Micros remaining(const Timer& timer) const = 0;
};

inline Timer::~Timer() {
  disarm();
  if (invoke_ == &call_heap) delete store_.heap;
}

inline void Timer::arm(Millis delay) {
  armed_ = true;
  queue_.schedule(*this, delay);
}

inline Micros Timer::remaining() const {
  return queue_.remaining(*this);
}

inline void Timer::disarm() {
  if (!armed_) return;
  armed_ = false;
  queue_.cancel(*this);
}

}  // namespace daheim::loop
