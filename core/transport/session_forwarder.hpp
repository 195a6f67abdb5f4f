// Requests for sessions another node holds (issue 16): a long-polling GET or
// POST is forwarded to the owner (HttpForward) and its answer written back to
// the client; a WebSocket upgrade is accepted here and carried to the owner
// over a WebSocket of our own (WsUpstream), message by message, for the
// life of the connection. The owner is found from the sid (SessionRouter);
// an owner that is gone or does not know the sid gets the client the
// protocol's "Session ID unknown". Loop thread only.
#pragma once

#include <libwebsockets.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "engineio/session.hpp"
#include "transport/connection_state.hpp"
#include "transport/cors.hpp"
#include "transport/http_forward.hpp"
#include "transport/http_util.hpp"
#include "transport/session_router.hpp"
#include "transport/ws_upstream.hpp"

namespace daheim::transport {

// Counters for /metrics.
struct ForwardStats {
  // Forwarding latency (request in to answer out) by method, in these
  // buckets (seconds); the last bucket is +Inf.
  static constexpr std::array<std::string_view, 15> kLe = {
      "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
      "0.05",   "0.1",     "0.25",   "0.5",   "1",      "5",     "30"};
  struct Histogram {
    std::array<uint64_t, kLe.size() + 1> buckets{};
    double sum = 0;
    void observe(std::chrono::steady_clock::duration d);
  };
  uint64_t polls_forwarded = 0;  // GET and POST answered by the owner
  uint64_t polls_unknown = 0;    // no live owner: "Session ID unknown"
  uint64_t polls_failed = 0;     // the owner did not answer in time (502)
  uint64_t websockets_carried = 0;
  uint64_t websockets_refused = 0;  // no owner, or the owner refused the upgrade
  uint64_t messages_carried = 0;    // both ways
  Histogram get_latency;
  Histogram post_latency;
};

struct ForwardedPoll;
struct CarriedSocket;

class SessionForwarder {
 public:
  struct Options {
    engineio::Options eio;
    CorsOptions cors;  // for the answers given here (owner unknown or silent)
  };
  SessionForwarder(SessionRouter& router, loop::Reactor& reactor, loop::TimerQueue& timers,
                   Options options);
  ~SessionForwarder();

  // A request for `sid`, which this node does not hold, goes to another node.
  bool wants(lws* wsi, const std::string& sid) const;

  // GET or POST (with its body): answered later, in on_http_writeable.
  int forward_poll(lws* wsi, ConnectionState* pss, const HttpRequest& req, std::string body);
  int on_http_writeable(lws* wsi, ConnectionState* pss);
  void on_http_closed(ConnectionState* pss);

  // A WebSocket for a session elsewhere, just established.
  int carry(lws* wsi, ConnectionState* pss, const HttpRequest& req);
  int on_ws_message(lws* wsi, ConnectionState* pss, std::string_view data, bool binary);
  int on_ws_writeable(lws* wsi, ConnectionState* pss);
  void on_ws_closed(ConnectionState* pss);

  const ForwardStats& stats() const { return stats_; }
  std::size_t carried_now() const { return carried_.size(); }
  std::size_t polls_now() const { return polls_.size(); }
  const ForwardPool& pool() const { return pool_; }

 private:
  void answer_poll(uint64_t id, const ForwardedResponse* response, bool reachable);
  void owner_message(uint64_t id, std::string_view data, bool binary);
  void owner_closed(uint64_t id);
  std::string target(const HttpRequest& req) const;

  SessionRouter& router_;
  loop::Reactor& reactor_;
  loop::TimerQueue& timers_;
  Options options_;
  ForwardPool pool_;  // before the requests that give connections back to it
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<ForwardedPoll>> polls_;
  std::unordered_map<uint64_t, std::unique_ptr<CarriedSocket>> carried_;
  ForwardStats stats_;
};

}  // namespace daheim::transport
