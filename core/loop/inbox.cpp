#include "loop/inbox.hpp"

#include <libwebsockets.h>

#include <utility>

namespace daheim::loop {

Inbox::~Inbox() = default;

void Inbox::attach(lws_context* context) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    context_ = context;
    wake = context_ != nullptr && !queued_.empty();
  }
  if (wake) lws_cancel_service(context);
}

// The wake-up is sent only when the inbox turns non-empty: until drain()
// swaps the queue out, an earlier wake-up is still due.
// lws_cancel_service() is thread-safe (an eventfd write). It is called with
// the mutex held so that close(), which runs before the context is
// destroyed, cannot overtake a wake-up in flight.
bool Inbox::push(const Lane* lane, const void* tag, Task task) {
  queued_.push_back({lane, tag, std::move(task)});
  if (queued_.size() == 1 && context_ != nullptr) lws_cancel_service(context_);
  return true;
}

bool Inbox::post(Task task) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  return push(nullptr, nullptr, std::move(task));
}

// The batch stays in running_ while it runs: a lane's run() or discard()
// from inside a task finds the entries not yet run there.
std::size_t Inbox::drain() {
  if (!running_.empty()) return 0;  // a task drained again: the outer drain goes on
  {
    std::lock_guard lock(mutex_);
    if (queued_.empty()) return 0;
    running_.swap(queued_);
  }
  std::size_t ran = 0;
  for (next_ = 0; next_ < running_.size(); ++next_) {
    Task task = std::move(running_[next_].task);
    if (!task) continue;
    task();
    ++ran;
  }
  running_.clear();
  next_ = 0;
  return ran;
}

void Inbox::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  context_ = nullptr;
}

template <typename Match>
std::vector<Inbox::Entry> Inbox::take(Match match) {
  std::vector<Entry> out;
  for (std::size_t i = next_ + 1; i < running_.size(); ++i)
    if (running_[i].task && match(running_[i])) out.push_back(std::exchange(running_[i], {}));
  std::lock_guard lock(mutex_);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < queued_.size(); ++i) {
    if (match(queued_[i]))
      out.push_back(std::move(queued_[i]));
    else if (kept++ != i)
      queued_[kept - 1] = std::move(queued_[i]);
  }
  queued_.resize(kept);
  return out;
}

Inbox::Lane::~Lane() {
  inbox_.take([this](const Entry& e) { return e.lane == this; });
}

bool Inbox::Lane::post(const void* tag, Task task) {
  std::lock_guard lock(inbox_.mutex_);
  if (closed_) return false;
  return inbox_.push(this, tag, std::move(task));
}

void Inbox::Lane::close() {
  std::lock_guard lock(inbox_.mutex_);
  closed_ = true;
}

void Inbox::Lane::run() {
  for (Entry& e : inbox_.take([this](const Entry& e) { return e.lane == this; })) e.task();
}

void Inbox::Lane::discard(const void* tag) {
  inbox_.take([this, tag](const Entry& e) { return e.lane == this && e.tag == tag; });
}

}  // namespace daheim::loop
