// The loop's one cross-thread inbox: post() from any thread queues a task
// and wakes the loop with lws_cancel_service() when the inbox turns
// non-empty (one wake-up per batch); the transport drains it on the service
// thread in LWS_CALLBACK_EVENT_WAIT_CANCELLED (which also fires spuriously:
// drain() is cheap when empty). One mutex, one queue.
//
// A Lane is one user's share of the inbox (the plugin host): its tasks carry
// a tag (the plugin they belong to), it can be closed on its own, its queued
// tasks run early (run()) or are dropped by tag (discard()), and destroying
// it drops what it still has queued.
//
// Owned by app (like the timer queue): attached by transport::Server in
// start(), closed before the lws context is destroyed. Tasks posted before
// attach() wait for it. Lanes must go before their inbox. Without a context
// (unit tests) nothing wakes: the test calls drain().
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

struct lws_context;

namespace daheim::loop {

class Inbox {
 public:
  using Task = std::function<void()>;
  class Lane;

  Inbox() = default;
  ~Inbox();
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // [service thread] Wake-ups go to `context` from now on (null: none).
  void attach(lws_context* context);
  // [any thread] Queues `task` to run on the loop thread soon, in posting
  // order. false: the inbox is closed and `task` was not queued.
  bool post(Task task);
  // [service thread] Runs the tasks queued so far, in order (tasks they post
  // wait for the next drain). Returns how many ran.
  std::size_t drain();
  // [service thread] Refuses further posts and wakes nobody any more (before
  // the context goes). Lanes still queue for their own run().
  void close();

 private:
  struct Entry {
    const Lane* lane;  // null: posted with Inbox::post
    const void* tag;
    Task task;
  };

  // Under mutex_. false: refused.
  bool push(const Lane* lane, const void* tag, Task task);
  // [service thread] Moves the matching entries out of the queue and out of
  // the batch being drained, in queue order.
  template <typename Match>
  std::vector<Entry> take(Match match);

  std::mutex mutex_;
  std::vector<Entry> queued_;
  lws_context* context_ = nullptr;
  bool closed_ = false;
  // [service thread] The batch drain() is running and its position, so that
  // a lane's run()/discard()/destruction inside a task sees its own entries.
  std::vector<Entry> running_;
  std::size_t next_ = 0;
};

class Inbox::Lane {
 public:
  explicit Lane(Inbox& inbox) : inbox_(inbox) {}
  ~Lane();
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  // [any thread] Queues `task`, tagged with `tag`. false: the lane is closed.
  bool post(const void* tag, Task task);
  // [service thread] Refuses further posts; the queued tasks stay for run().
  void close();
  // [service thread] Runs this lane's queued tasks now, in order.
  void run();
  // [service thread] Drops this lane's queued tasks tagged `tag` unrun.
  void discard(const void* tag);

 private:
  friend class Inbox;
  Inbox& inbox_;
  bool closed_ = false;  // guarded by inbox_.mutex_
};

}  // namespace daheim::loop
