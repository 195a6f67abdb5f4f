// Redis's answer to an adapter's last broadcast, for Adapter::when_logged
// (POST /api/v1/push answers 202 only once Redis has the event): the
// streams adapter's XADD, the pubsub and sharded adapters' PUBLISH /
// SPUBLISH. A record of the answer is kept only for a broadcast a caller
// said it will wait for (expect()); any other broadcast costs nothing here
// (the streams adapter's fallback on a refusal aside). One per adapter;
// loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "loop/timer.hpp"
#include "socketio/adapter.hpp"

namespace daheim::cluster {

class BroadcastConfirmation {
 public:
  using Logged = socketio::Adapter::Logged;
  // Redis's answer: true when it took the command.
  using Answer = std::function<void(bool taken)>;

  // Before a broadcast: its caller will call when() right after it.
  void expect() { expected_ = true; }
  // The last broadcast was not sent to Redis: when_logged answers `result`.
  void settled(Logged result);
  // The last broadcast was sent to Redis: the returned function takes
  // Redis's answer. `unawaited_refusal` runs when Redis refused it and
  // nobody waits for the answer (the streams adapter then delivers it here).
  // Empty (nothing to call) when nobody expects the answer and there is no
  // `unawaited_refusal`.
  Answer sent(std::function<void()> unawaited_refusal = nullptr);
  // After the broadcast: `done` runs once, with Redis's answer or TimedOut
  // after `timeout`; Refused when there was no broadcast yet or the last one
  // was not expected.
  void when(loop::TimerQueue& timers, loop::Millis timeout, std::function<void(Logged)> done);

 private:
  struct Pending;
  std::shared_ptr<Pending> last_;  // an expected broadcast sent to Redis
  std::optional<Logged> settled_;  // or the last broadcast's answer, known at once
  bool expected_ = false;
};

}  // namespace daheim::cluster
