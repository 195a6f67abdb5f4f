// Redis's answer to an adapter's last broadcast, for Adapter::when_logged
// (POST /api/v1/push answers 202 only once Redis has the event): the
// streams adapter's XADD, the pubsub and sharded adapters' PUBLISH /
// SPUBLISH. One per adapter; loop thread only.
#pragma once

#include <functional>
#include <memory>

#include "loop/timer.hpp"
#include "socketio/adapter.hpp"

namespace daheim::cluster {

class BroadcastConfirmation {
 public:
  using Logged = socketio::Adapter::Logged;
  // Redis's answer: true when it took the command.
  using Answer = std::function<void(bool taken)>;

  // The last broadcast was not sent to Redis: when_logged answers `result`.
  void settled(Logged result);
  // The last broadcast was sent to Redis: the returned function takes
  // Redis's answer. `unawaited_refusal` runs when Redis refused it and
  // nobody waits for the answer (the streams adapter then delivers it here).
  Answer sent(std::function<void()> unawaited_refusal = nullptr);
  // After the broadcast: `done` runs once, with Redis's answer or TimedOut
  // after `timeout`.
  void when(loop::TimerQueue& timers, loop::Millis timeout, std::function<void(Logged)> done);

 private:
  struct Pending;
  std::shared_ptr<Pending> last_;
};

}  // namespace daheim::cluster
