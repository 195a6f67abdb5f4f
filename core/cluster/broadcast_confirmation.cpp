#include "cluster/broadcast_confirmation.hpp"

#include <optional>
#include <utility>

namespace daheim::cluster {

struct BroadcastConfirmation::Pending {
  std::optional<Logged> result;  // once Redis answered
  bool awaited = false;          // when() was called
  std::function<void(Logged)> waiter;
  std::unique_ptr<loop::Timer> timer;

  void finish(Logged r) {
    if (!waiter) return;
    std::function<void(Logged)> w = std::move(waiter);
    waiter = nullptr;
    if (timer) timer->disarm();
    w(r);
  }
};

void BroadcastConfirmation::settled(Logged result) {
  last_ = std::make_shared<Pending>();
  last_->result = result;
}

BroadcastConfirmation::Answer BroadcastConfirmation::sent(std::function<void()> unawaited_refusal) {
  auto pending = std::make_shared<Pending>();
  last_ = pending;
  return [pending, refused = std::move(unawaited_refusal)](bool taken) {
    Logged r = taken ? Logged::Yes : Logged::Refused;
    pending->result = r;
    if (!taken && !pending->awaited && refused) refused();
    pending->finish(r);
  };
}

void BroadcastConfirmation::when(loop::TimerQueue& timers, loop::Millis timeout,
                                 std::function<void(Logged)> done) {
  std::shared_ptr<Pending> p = last_;
  if (!p) return done(Logged::Refused);  // no broadcast yet
  p->awaited = true;
  if (p->result) return done(*p->result);
  p->waiter = std::move(done);
  std::weak_ptr<Pending> weak = p;
  p->timer = std::make_unique<loop::Timer>(timers, [weak] {
    if (std::shared_ptr<Pending> q = weak.lock()) q->finish(Logged::TimedOut);
  });
  p->timer->arm(timeout);
}

}  // namespace daheim::cluster
