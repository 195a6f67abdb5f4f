// Test doubles for the Engine.IO core: a recording Handler, a fake
// SessionObserver and a fixture that runs a Session on the fake clock.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/codec.hpp"
#include "engineio/handler.hpp"
#include "engineio/session.hpp"
#include "fake_timer_queue.hpp"

namespace daheim::engineio {

// The timers the sessions run on (core/loop).
using loop::Millis;
using loop::TimePoint;
using loop::Timer;

// Lower-case hex of raw bytes, for readable assertions on binary data.
inline std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// A frame as the client would see it: the text body, or "bin:<hex>".
inline std::string describe(const FramePtr& frame) {
  if (!frame) return "<null>";
  if (frame->binary) return "bin:" + hex(frame->body());
  return std::string(frame->body());
}

// What a RecordingHandler saw. Owned by the test (the session owns the
// handler itself), so it outlives the session.
struct HandlerLog {
  // "text:<data>", "binary:<hex>", "close:<reason>" in call order.
  std::vector<std::string> events;
  std::vector<CloseReason> closes;
  // Optional reactions, run after recording.
  std::function<void(std::string_view)> on_message;
  std::function<void(std::string_view)> on_binary;
  std::function<void(CloseReason)> on_close;
};

class RecordingHandler final : public Handler {
 public:
  explicit RecordingHandler(HandlerLog& log) : log_(log) {}

  void on_message(std::string_view text) override {
    log_.events.push_back("text:" + std::string(text));
    if (log_.on_message) log_.on_message(text);
  }
  void on_binary(std::string_view data) override {
    log_.events.push_back("binary:" + hex(data));
    if (log_.on_binary) log_.on_binary(data);
  }
  void on_close(CloseReason reason) override {
    log_.closes.push_back(reason);
    log_.events.push_back("close:" + std::string(to_string(reason)));
    if (log_.on_close) log_.on_close(reason);
  }

 private:
  HandlerLog& log_;
};

class FakeObserver final : public SessionObserver {
 public:
  void on_session_activity(Session& session) override {
    ++calls;
    last = &session;
    if (hook) hook(session);
  }

  int calls = 0;
  Session* last = nullptr;
  std::function<void(Session&)> hook;
};

inline constexpr std::string_view kTestSid = "abcdefghijklmnopqrst";

// The conformance fixture's options: pingInterval 300, pingTimeout 200.
inline Options conformance_options() {
  Options o;
  o.ping_interval = Millis(300);
  o.ping_timeout = Millis(200);
  o.upgrade_timeout = Millis(10000);
  o.max_payload = 1000000;
  return o;
}

class SessionTest : public ::testing::Test {
 protected:
  // Creates and starts the session. `opts` may be changed before this.
  Session& start(TransportKind kind = TransportKind::Polling, Handshake handshake = {}) {
    session = std::make_unique<Session>(std::string(kTestSid), kind, std::move(handshake), opts,
                                        clock, observer);
    session->start(std::make_unique<RecordingHandler>(log));
    return *session;
  }

  // Polling session whose open packet has already been fetched.
  Session& start_polling() {
    start(TransportKind::Polling);
    EXPECT_EQ(poll()[0], '0');
    return *session;
  }

  // WebSocket session whose open frame has already been taken.
  Session& start_websocket() {
    start(TransportKind::WebSocket);
    EXPECT_EQ(describe(session->pop_frame())[0], '0');
    EXPECT_FALSE(session->has_frames());
    return *session;
  }

  // A GET that must be answered at once; returns its body.
  std::string poll() {
    EXPECT_EQ(session->begin_poll(), Session::PollStart::Answer);
    return session->end_poll();
  }

  // A GET that must be held.
  void hold_poll() { ASSERT_EQ(session->begin_poll(), Session::PollStart::Hold); }

  // A complete POST; returns what on_post_body returned.
  bool post(std::string_view body) {
    EXPECT_TRUE(session->begin_post());
    bool ok = session->on_post_body(body);
    session->end_post();
    return ok;
  }

  // Every queued WebSocket frame, described.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    while (auto f = session->pop_frame()) out.push_back(describe(f));
    return out;
  }

  bool send_text(std::string_view data) {
    return session->send(make_text_frame(PacketType::Message, data));
  }

  void advance(int ms) { clock.advance(Millis(ms)); }

  // Members in this order so that the session is destroyed first.
  Options opts = conformance_options();
  daheim::testing::FakeTimerQueue clock;
  FakeObserver observer;
  HandlerLog log;
  std::unique_ptr<Session> session;
};

}  // namespace daheim::engineio
