// A fake Engine.IO session for Socket.IO tests: records the frames it is
// given and reports a close to its handler the way engineio::Session does.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engineio/handler.hpp"
#include "engineio/sid.hpp"
#include "fake_timer_queue.hpp"

namespace daheim::testing {

class FakeConnection final : public engineio::Connection {
 public:
  explicit FakeConnection(FakeTimerQueue& timers) : timers_(timers), id_(engineio::generate_id()) {}

  // Connection
  std::string_view id() const override { return id_; }
  const engineio::Handshake& handshake() const override { return handshake_; }
  engineio::TransportKind transport() const override { return engineio::TransportKind::WebSocket; }
  bool send(engineio::FramePtr frame) override {
    if (closed) return false;
    frames.push_back(std::move(frame));
    if (close_after_frames && frames.size() >= *close_after_frames)
      close(engineio::CloseReason::TransportError);  // a slow consumer
    return !closed;
  }
  bool can_send_now() const override { return !closed && writable; }
  void close(engineio::CloseReason reason) override {
    if (closed) return;
    closed = reason;
    if (handler != nullptr) handler->on_close(reason);
  }
  loop::TimerQueue& timers() override { return timers_; }

  // The frames' bodies: text as is, binary as "<bin:" + bytes + ">".
  std::vector<std::string> take() {
    std::vector<std::string> out;
    for (const auto& f : frames)
      out.push_back(f->binary ? "<bin:" + std::string(f->body()) + ">" : std::string(f->body()));
    frames.clear();
    return out;
  }

  engineio::Handshake handshake_;
  engineio::Handler* handler = nullptr;
  std::vector<engineio::FramePtr> frames;
  std::optional<engineio::CloseReason> closed;
  std::optional<std::size_t> close_after_frames;
  bool writable = true;

 private:
  FakeTimerQueue& timers_;
  std::string id_;
};

}  // namespace daheim::testing
