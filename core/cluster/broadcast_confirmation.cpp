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
  last_.reset();
  settled_ = result;
  expected_ = false;
}

BroadcastConfirmation::Answer BroadcastConfirmation::sent(std::function<void()> unawaited_refusal) {
  last_.reset();
  settled_.reset();
  if (!std::exchange(expected_, false)) {
    if (!unawaited_refusal) return nullptr;
    return [refused = std::move(unawaited_refusal)](bool taken) {
      if (!taken) refused();
    };
  }
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
  if (settled_) return done(*settled_);
  std::shared_ptr<Pending> p = last_;
  if (!p) return done(Logged::Refused);  // no broadcast yet, or not expected
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
