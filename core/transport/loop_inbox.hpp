// A thread-safe inbox drained on the libwebsockets service thread: post()
// from any thread queues a task and wakes the loop with lws_cancel_service();
// the server drains it in LWS_CALLBACK_EVENT_WAIT_CANCELLED (which also fires
// spuriously: drain() is cheap when empty). Implements engineio::LoopPoster.
//
// Owned by transport::Server: attached in start(), drained in the callback,
// closed before the context is destroyed. Tasks posted before attach() wait
// for it; after close() post() refuses; tasks still queued then are
// destroyed without running when the inbox is.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "engineio/loop_poster.hpp"

struct lws_context;

namespace daheim::transport {

class LoopInbox final : public engineio::LoopPoster {
 public:
  LoopInbox() = default;
  ~LoopInbox() override;
  LoopInbox(const LoopInbox&) = delete;
  LoopInbox& operator=(const LoopInbox&) = delete;

  // [service thread] Wakes go to `context` from now on (null: none).
  void attach(lws_context* context);
  // [any thread]
  bool post(std::function<void()> task) override;
  // [service thread] Runs the tasks queued so far, in order.
  void drain();
  // [service thread] Refuses further posts (before the context goes).
  void close();

 private:
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;
  lws_context* context_ = nullptr;
  bool closed_ = false;
};

}  // namespace daheim::transport
