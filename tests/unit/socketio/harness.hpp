// Drives socketio::Server through fake Engine.IO connections on a fake clock.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fake_connection.hpp"
#include "fake_timer_queue.hpp"
#include "socketio/client.hpp"
#include "socketio/namespace.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace daheim::testing {

inline constexpr std::string_view kPh0 = R"({"_placeholder":true,"num":0})";
inline constexpr std::string_view kPh1 = R"({"_placeholder":true,"num":1})";

// One client: its fake session and the handler the server made for it.
struct Peer {
  explicit Peer(FakeTimerQueue& timers) : conn(timers) {}
  ~Peer() { handler.reset(); }

  // `eio` is an Engine.IO message as the suites write it ("42[...]").
  void send(std::string_view eio) {
    ASSERT_FALSE(eio.empty());
    ASSERT_EQ(eio[0], '4');
    handler->on_message(eio.substr(1));
  }
  void send_binary(std::string_view data) { handler->on_binary(data); }
  std::vector<std::string> take() { return conn.take(); }
  socketio::Client& client() { return static_cast<socketio::Client&>(*handler); }

  FakeConnection conn;
  std::unique_ptr<engineio::Handler> handler;
};

// The conformance fixture's options (reference/conformance.md §2).
inline socketio::Options fixture_options() {
  socketio::Options o;
  o.connect_timeout = loop::Millis(1000);
  return o;
}

class Harness {
 public:
  explicit Harness(socketio::Options options = fixture_options()) : server(timers, options) {}

  std::unique_ptr<Peer> open() {
    auto p = std::make_unique<Peer>(timers);
    p->handler = server.make_client(p->conn);
    p->conn.handler = p->handler.get();
    return p;
  }

  // Opens a client and joins `nsp`; returns it with its frames taken.
  std::unique_ptr<Peer> join(std::string_view nsp = "/") {
    auto p = open();
    p->send(nsp == "/" ? std::string("40") : "40" + std::string(nsp) + ",");
    p->take();
    return p;
  }

  // The id of peer's socket in `nsp`.
  static socketio::Socket& socket_of(Peer& p, std::string_view nsp = "/") {
    socketio::Socket* s = p.client().socket(nsp);
    EXPECT_NE(s, nullptr);
    return *s;
  }

  FakeTimerQueue timers;
  socketio::Server server;
};

// Installs the socket.io conformance fixture's handlers.
inline void install_fixture(socketio::Server& server) {
  auto emit_auth = [](socketio::Socket& s) { s.emit("auth", "[" + std::string(s.auth()) + "]"); };
  server.of("/").on_connection(emit_auth);
  server.of("/custom").on_connection(emit_auth);
  server.of("/").on_event([](socketio::Socket& s, socketio::Event& e) {
    if (e.name == "message") s.emit("message-back", e.args, e.attachments);
    if (e.name == "message-with-ack" && e.ack_id) s.ack(*e.ack_id, e.args, e.attachments);
  });
}

// The sid of a CONNECT reply `40[/nsp,]{"sid":"..."}`.
inline std::string sid_of(const std::string& frame) {
  auto at = frame.find("{\"sid\":\"");
  if (at == std::string::npos) return {};
  auto begin = at + 8;
  return frame.substr(begin, frame.find('"', begin) - begin);
}

}  // namespace daheim::testing
