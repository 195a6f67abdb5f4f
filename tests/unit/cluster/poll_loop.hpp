// A real event loop for cluster unit tests: poll() for descriptors and a
// steady-clock timer queue, run until a condition holds or a deadline passes.
#pragma once

#include <poll.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "loop/fd_watch.hpp"
#include "loop/timer.hpp"

namespace daheim::testing {

class PollLoop final : public loop::Reactor, public loop::TimerQueue {
 public:
  loop::TimePoint now() const override { return loop::Clock::now(); }
  void schedule(loop::Timer& timer, loop::Millis delay) override {
    cancel(timer);
    due_.emplace(now() + delay, &timer);
  }
  void cancel(loop::Timer& timer) override {
    for (auto it = due_.begin(); it != due_.end(); ++it)
      if (it->second == &timer) {
        due_.erase(it);
        return;
      }
  }

  loop::Micros remaining(const loop::Timer& timer) const override {
    for (const auto& [due, t] : due_)
      if (t == &timer) return std::chrono::duration_cast<loop::Micros>(due - now());
    if (&timer == firing_.second)
      return std::chrono::duration_cast<loop::Micros>(firing_.first - now());
    return loop::Micros::zero();
  }

  std::unique_ptr<loop::FdWatch> watch(int fd, loop::FdEvents& events) override {
    auto w = std::make_unique<Watch>(*this, fd, events);
    watches_.push_back(w.get());
    return w;
  }

  // Runs until `done()` or `limit` passed; returns done().
  bool run_until(const std::function<bool()>& done, loop::Millis limit = loop::Millis(10000)) {
    auto end = now() + limit;
    while (!done()) {
      if (now() >= end) return false;
      turn(loop::Millis(20));
    }
    return true;
  }
  void run_for(loop::Millis d) {
    auto end = now() + d;
    while (now() < end) turn(loop::Millis(10));
  }

 private:
  struct Watch final : loop::FdWatch {
    Watch(PollLoop& l, int f, loop::FdEvents& e) : loop(l), fd(f), events(&e) {}
    ~Watch() override { std::erase(loop.watches_, this); }
    void want_write() override { wants_write = true; }
    void pause_read() override { reading = false; }
    void resume_read() override { reading = true; }
    PollLoop& loop;
    int fd;
    loop::FdEvents* events;
    bool wants_write = false;
    bool reading = true;
  };

  void turn(loop::Millis max_wait) {
    while (!due_.empty() && due_.begin()->first <= now()) {
      firing_ = *due_.begin();
      due_.erase(due_.begin());
      firing_.second->fire_from_queue();
    }
    firing_ = {};
    std::vector<pollfd> fds;
    std::vector<Watch*> ws = watches_;
    for (Watch* w : ws)
      fds.push_back({w->fd,
                     static_cast<short>((w->reading ? POLLIN : 0) | (w->wants_write ? POLLOUT : 0)),
                     0});
    poll(fds.data(), fds.size(), static_cast<int>(max_wait.count()));
    for (std::size_t i = 0; i < ws.size(); ++i) {
      auto alive = [&] {
        return std::find(watches_.begin(), watches_.end(), ws[i]) != watches_.end();
      };
      // As lws does: a request for writability made from within the
      // descriptor's own writable callback is dropped.
      if ((fds[i].revents & (POLLOUT | POLLERR | POLLHUP)) && alive() && ws[i]->wants_write) {
        ws[i]->events->on_writable();
        if (alive()) ws[i]->wants_write = false;
      }
      if ((fds[i].revents & (POLLIN | POLLERR | POLLHUP)) && alive() && ws[i]->reading)
        ws[i]->events->on_readable();
    }
  }

  std::multimap<loop::TimePoint, loop::Timer*> due_;
  std::pair<loop::TimePoint, loop::Timer*> firing_{};  // the timer whose callback runs
  std::vector<Watch*> watches_;
};

}  // namespace daheim::testing
