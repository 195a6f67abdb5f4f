// The Engine.IO endpoint on libwebsockets: long-polling requests, WebSocket
// connections and upgrades, routed to the pure engineio::Session objects it
// owns (one table keyed by sid).
#pragma once

#include <libwebsockets.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engineio/handler.hpp"
#include "engineio/id_index.hpp"
#include "engineio/session.hpp"
#include "loop/lws_timer_queue.hpp"
#include "loop/on_demand_timer.hpp"
#include "transport/address_limits.hpp"
#include "transport/client_address.hpp"
#include "transport/connection_state.hpp"
#include "transport/cors.hpp"
#include "transport/handshake_budget.hpp"
#include "transport/http_util.hpp"
#include "transport/post_body.hpp"
#include "transport/session_forwarder.hpp"
#include "transport/ws_writer.hpp"

namespace daheim::transport {

struct EndpointOptions {
  std::string path = "/socket.io/";
  engineio::Options eio;
  CorsOptions cors;
  std::size_t max_header = 16384;
  // Bytes all sessions may have queued together (engineio.maxBufferedBytesTotal;
  // 0: no limit). Over it at the end of a loop turn, the sessions with the
  // largest backlogs are dropped until the sum is within it.
  std::size_t max_buffered_total = std::size_t{256} << 20;
  // Per client address (address_key): connections, sessions, handshakes.
  AddressLimitOptions per_address;
  // New sessions per second for the whole server, and how long one waits.
  HandshakeBudgetOptions handshakes;
  // Peers whose X-Forwarded-For names the client (engineio.trustedProxies).
  AddressSet trusted_proxies;
  // Clients the per-address limits do not apply to (engineio.addressLimitsExempt).
  AddressSet limits_exempt = loopback();
  // What each session keeps of its handshake's headers (engineio.handshakeHeaders).
  engineio::HeaderFilter handshake_headers;

  static AddressSet loopback() { return *AddressSet::parse({"127.0.0.0/8", "::1"}); }
};

// WebSocket close code 1013 (RFC 6455 registry): a held handshake whose wait ran out.
inline constexpr auto kTryAgainLater = static_cast<lws_close_status>(1013);
// The reasons sent with the close codes.
inline constexpr std::string_view kBusyReason = "Server busy: too many handshakes, retry later";
inline constexpr std::string_view kTooLargeReason = "Message over maxPayload";

using HandlerFactory =
    std::function<std::unique_ptr<engineio::Handler>(engineio::Connection& connection)>;

class EngineIoEndpoint;
class Http1Connection;
namespace http1 {
struct Request;
}

// What engineio::verify_request reads of a request.
engineio::RequestInfo request_info(const HttpRequest& req, bool upgrade);

// A session and the libwebsockets connections currently serving it, in one
// allocation (the Session is constructed in place by create_session).
struct SessionEntry final : engineio::SessionObserver {
  explicit SessionEntry(EngineIoEndpoint& owner);
  ~SessionEntry() override;
  void on_session_activity(engineio::Session& session) override;
  void wake_poll();
  void write_or_wait(engineio::Session& session);
  void write_now();  // WsWriter::flush: the held GET's answer, then WebSocket frames
  void schedule_peek();
  void peek();
  // The session's id, for the endpoint's table (the session is there while
  // the entry is in it).
  std::string_view id() const { return session->id(); }
  lws* poll_wsi() const { return poll_is_own ? nullptr : static_cast<lws*>(held_poll); }
  Http1Connection* poll_own() const {
    return poll_is_own ? static_cast<Http1Connection*>(held_poll) : nullptr;
  }
  bool poll_held() const { return held_poll != nullptr; }
  void hold_poll(lws* wsi) {
    held_poll = wsi;
    poll_is_own = false;
  }
  void hold_poll(Http1Connection* conn) {
    held_poll = conn;
    poll_is_own = true;
  }
  void drop_poll() {
    held_poll = nullptr;
    poll_is_own = false;
  }

  EngineIoEndpoint& endpoint;
  std::optional<engineio::Session> session;
  bool poll_woken = false;      // the held GET is answered at the end of the turn
  bool write_deferred = false;  // on the WsWriter's list
  // Counted in AddressLimits under limit_key(the handshake's address), which
  // is computed again when the entry goes rather than kept (32 B).
  bool address_counted = false;
  bool poll_is_own = false;  // held_poll is an Http1Connection, else an lws wsi
  // The held GET, on lws (its wsi) or on our own HTTP/1.1 handling (its
  // connection), never on both: one pointer and the flag above (a pointer
  // less: a 272 B malloc chunk, not 288; BENCHMARKS.md 10.11). Through the
  // accessors below.
  void* held_poll = nullptr;
  lws* ws_wsi = nullptr;
  lws* probe_wsi = nullptr;
  // A held GET looks for its client's EOF: allocated while a GET is held.
  loop::OnDemandTimer<SessionEntry, &SessionEntry::peek> peek_timer;
};

// Counters for monitoring, updated on the loop.
struct EndpointStats {
  uint64_t sessions_opened = 0;
  uint64_t slow_consumer_closes = 0;
  uint64_t budget_drops = 0;  // sessions dropped for max_buffered_total
  uint64_t messages_in = 0;   // WebSocket messages and polling POST bodies
  uint64_t messages_out = 0;  // WebSocket frames and polling responses
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t ws_writes = 0;          // lws_write calls carrying WebSocket frames
  uint64_t ws_partial_writes = 0;  // ... of which the kernel did not take all
};

class EngineIoEndpoint {
 public:
  EngineIoEndpoint(EndpointOptions options, HandlerFactory factory, loop::LwsTimerQueue& timers);
  ~EngineIoEndpoint();

  void attach(lws_context* context) { context_ = context; }
  // Sessions served by any node: sids get the router's tag, and requests
  // for sessions another node holds are forwarded there. After the server
  // started (the reactor watches the forwarded connections).
  void set_forwarding(SessionRouter& router, loop::Reactor& reactor);
  // Ends every forwarded request and carried WebSocket (before lws goes).
  void stop_forwarding() { forwarder_.reset(); }
  const SessionForwarder* forwarder() const { return forwarder_.get(); }
  // The reference matches the path as a prefix, trailing slash included.
  bool matches(std::string_view path) const;
  const EndpointOptions& options() const { return options_; }

  int on_http(lws* wsi, ConnectionState* pss, const HttpRequest& req);
  int on_http_body(lws* wsi, ConnectionState* pss, const void* in, std::size_t len);
  int on_http_body_completion(lws* wsi, ConnectionState* pss);
  int on_http_writeable(lws* wsi, ConnectionState* pss);
  void on_http_closed(ConnectionState* pss);
  // lws frees `pss` after this (LWS_CALLBACK_HTTP_DROP_PROTOCOL).
  void on_http_dropped(ConnectionState* pss) { post_body_.release(pss); }

  // 0: let the upgrade proceed; nonzero: refused (a 400 was written).
  int on_confirm_upgrade(lws* wsi);
  int on_ws_established(lws* wsi, ConnectionState* pss);
  int on_ws_receive(lws* wsi, ConnectionState* pss, const void* in, std::size_t len);
  int on_ws_writeable(lws* wsi, ConnectionState* pss);
  void on_ws_closed(ConnectionState* pss);

  // Graceful close of every session (shutdown). With ServerShuttingDown no
  // session is opened from then on: a new handshake gets 503 "Server
  // shutting down" (a reconnecting client goes elsewhere or retries later,
  // instead of getting a session that ends with this process).
  void close_all(engineio::CloseReason reason);
  // After close_all: a polling session closing without a held GET ends
  // after `grace` unless a GET fetches its close packet first (else it would
  // hold the drain for pingInterval + pingTimeout).
  void hurry_unpolled(loop::Millis grace);
  std::size_t session_count() const { return sessions_.size(); }
  // Open sessions by current transport: {polling, websocket}.
  std::pair<std::size_t, std::size_t> sessions_by_transport() const;
  const EndpointStats& stats() const { return stats_; }
  const HandshakeBudget& handshake_budget() const { return handshake_budget_; }
  AddressLimits& address_limits() { return address_limits_; }
  const AddressLimits& address_limits() const { return address_limits_; }
  // The key limits count `address` under; empty when it is exempt.
  std::string limit_key(const std::string& address) const;

  // Our own HTTP/1.1 handling (http1_polling.cpp): a long-polling GET or
  // POST for a session held here, answered through `conn`; false: not ours
  // (handed to lws, which answers it as before).
  // `begun`: begin_own_post() took this POST already.
  bool serve_own(Http1Connection& conn, const HttpRequest& req, const http1::Request& head,
                 std::string_view body, bool binary, bool begun = false);
  // A POST whose body is still coming: begun for its session now (as lws
  // begins it when its headers came), refused (answered), or not ours.
  enum class OwnPost { NotOurs, Begun, Answered };
  OwnPost begin_own_post(Http1Connection& conn, const HttpRequest& req);
  // The client of a held GET on our own handling went away.
  void own_poll_lost(SessionEntry& entry);
  // A POST begun here whose connection went before its body was whole.
  void own_post_lost(std::string_view sid);
  // The entry goes while its GET is held there: the connection ends.
  void drop_own_held(SessionEntry& entry);

  // Internal, for SessionEntry.
  void schedule_reap(SessionEntry& entry);
  // Answers the entry's held GET now (the end-of-turn writer, outside lws's
  // callbacks); a connection that cannot go on is killed.
  void answer_held_poll(SessionEntry& entry);
  lws_context* context() const { return context_; }
  loop::LwsTimerQueue& timers() { return timers_; }
  WsWriter& writer() { return writer_; }
  // End of a loop turn: writes the frames queued during it, then holds the
  // sessions to the server-wide budget.
  void flush() {
    writer_.flush();
    enforce_budget();
  }
  // Bytes queued for all clients together.
  std::size_t buffered_bytes() const { return budget_.total(); }

 private:
  SessionEntry* find(const std::string* sid);
  SessionEntry* find(std::string_view sid);
  // The session a request (poll, POST, upgrade) names, after its overdue
  // heartbeat ran (Session::catch_up_heartbeat).
  engineio::SessionLookup lookup(const std::string* sid);
  std::vector<engineio::Header> response_headers(const HttpRequest& req) const;
  // The same from the request's Origin header alone, for answers whose
  // request was parsed when it arrived (a held GET, a POST's body): nothing
  // is read when CORS is off.
  std::vector<engineio::Header> response_headers(lws* wsi) const;
  int refuse(lws* wsi, const HttpRequest& req, engineio::ErrorCode code, bool close_after = false);
  engineio::Handshake make_handshake(lws* wsi, const HttpRequest& req, std::string address) const;
  SessionEntry& create_session(engineio::TransportKind kind, engineio::Handshake hs,
                               std::string key);
  std::string client_address(lws* wsi) const;
  int refuse_address(lws* wsi, std::vector<engineio::Header> headers,
                     AddressLimits::Verdict verdict);
  int handshake_polling(lws* wsi, ConnectionState* pss, const HttpRequest& req);
  int open_polling(lws* wsi, engineio::Handshake hs, std::string key);
  int open_ws(lws* wsi, ConnectionState* pss, engineio::Handshake hs, std::string key);

  // Handshakes over the server-wide budget (handshake_admission.cpp).
  struct HeldHandshake {
    enum class State : uint8_t { Waiting, Admitted, Expired };
    lws* wsi = nullptr;
    engineio::Handshake hs;
    std::string key;
    State state = State::Waiting;
  };
  // Asks the budget for a new session; nullopt: it waits (parked here).
  std::optional<HandshakeBudget::Verdict> admit(lws* wsi, ConnectionState* pss, Role held_role,
                                                engineio::Handshake& hs, std::string& key);
  int refuse_busy(lws* wsi, std::vector<engineio::Header> headers);
  int refuse_stopping(lws* wsi, std::vector<engineio::Header> headers);
  void release_handshakes();
  void schedule_release();
  // The held handshake's answer, once admitted or expired (from WRITEABLE).
  int finish_held_poll(lws* wsi, ConnectionState* pss);
  int finish_held_ws(lws* wsi, ConnectionState* pss);
  void drop_held(ConnectionState* pss);
  int poll(lws* wsi, ConnectionState* pss, SessionEntry& entry, const HttpRequest& req);
  int answer_poll(lws* wsi, SessionEntry& entry);
  void answer_own_poll(Http1Connection& conn, SessionEntry& entry,
                       const std::vector<engineio::Header>& cors);
  void answer_own_held(SessionEntry& entry);
  bool own_handshake(Http1Connection& conn, const HttpRequest& req, const http1::Request& head);
  SessionEntry* own_session(const HttpRequest& req);
  // Detaches the held GET `wsi` from its entry (answered or gone).
  static void release_held_poll(lws* wsi, ConnectionState* pss, SessionEntry& entry);
  int start_post(lws* wsi, ConnectionState* pss, SessionEntry* entry, const HttpRequest& req);
  std::optional<std::size_t> post_length(lws* wsi, const HttpRequest& req, int& answered);
  int finish_post(lws* wsi, ConnectionState* pss);
  // A request for a session this node does not hold, that another may.
  bool elsewhere(lws* wsi, const std::string* sid);
  bool valid_elsewhere(const HttpRequest& req, bool upgrade) const;
  int start_post_forward(lws* wsi, ConnectionState* pss, const HttpRequest& req);
  int dispatch_ws(lws* wsi, ConnectionState* pss, std::string_view data, bool binary);
  void reap();
  void remove(SessionEntry* entry);
  void enforce_budget();

  EndpointOptions options_;
  HandlerFactory factory_;
  loop::LwsTimerQueue& timers_;
  lws_context* context_ = nullptr;
  engineio::OutboxBudget budget_;  // declared first: sessions leave it when destroyed
  // The entries, by their session's id (no copy of the sid, no node per
  // entry); each is owned here: created in create_session, deleted by reap()
  // and the destructor, after it left the table.
  engineio::IdIndex<SessionEntry> sessions_;
  std::vector<std::string> reap_list_;
  EndpointStats stats_;
  PostBody post_body_;  // the body of the POST being read, mostly
  WsWriter writer_{stats_};
  loop::Timer reap_timer_;
  AddressLimits address_limits_;
  HandshakeBudget handshake_budget_;
  std::unordered_map<uint64_t, HeldHandshake> held_;
  uint64_t next_handshake_ = 1;
  bool shutting_down_ = false;  // close_all(ServerShuttingDown): no new session
  loop::Timer release_timer_;
  SessionRouter* router_ = nullptr;
  std::unique_ptr<SessionForwarder> forwarder_;
};

}  // namespace daheim::transport
