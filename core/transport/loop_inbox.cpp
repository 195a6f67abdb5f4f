#include "transport/loop_inbox.hpp"

#include <libwebsockets.h>

namespace daheim::transport {

LoopInbox::~LoopInbox() = default;

void LoopInbox::attach(lws_context* context) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    context_ = context;
    wake = context_ != nullptr && !tasks_.empty();
  }
  if (wake) lws_cancel_service(context);
}

// The wake-up is sent only when the inbox turns non-empty: until drain()
// swaps the queue out, an earlier wake-up is still due.
// lws_cancel_service() is thread-safe (an eventfd write). It is called with
// the mutex held so that close(), which runs before the context is
// destroyed, cannot overtake a wake-up in flight.
bool LoopInbox::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  tasks_.push_back(std::move(task));
  if (tasks_.size() == 1 && context_ != nullptr) lws_cancel_service(context_);
  return true;
}

void LoopInbox::drain() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    if (tasks_.empty()) return;
    batch.swap(tasks_);
  }
  for (auto& task : batch) task();
}

void LoopInbox::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  context_ = nullptr;
}

}  // namespace daheim::transport
