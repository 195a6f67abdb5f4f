// engineio::TimerQueue on libwebsockets' scheduler: one lws_sul per Timer,
// kept in the Timer's queue_slot. Service thread only.
#pragma once

#include "engineio/timer.hpp"

struct lws_context;

namespace daheim::transport {

class LwsTimerQueue final : public engineio::TimerQueue {
 public:
  LwsTimerQueue() = default;
  void attach(lws_context* context) { context_ = context; }

  engineio::TimePoint now() const override { return engineio::Clock::now(); }
  void schedule(engineio::Timer& timer, engineio::Millis delay) override;
  void cancel(engineio::Timer& timer) override;

 private:
  lws_context* context_ = nullptr;
};

}  // namespace daheim::transport
