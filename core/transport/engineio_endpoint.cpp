#include "transport/engineio_endpoint.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "engineio/sid.hpp"
#include "log/log.hpp"
#include "transport/ws_close.hpp"

namespace daheim::transport {

using engineio::CloseReason;
using engineio::ErrorCode;
using engineio::Session;
using engineio::TransportKind;

static_assert(LWS_PRE <= engineio::kFrameHeadroom, "frames need LWS_PRE bytes of headroom");

namespace {

constexpr loop::Millis kPeekInterval{500};
const std::string_view kPollingType = "text/plain; charset=UTF-8";
// Engine.IO 3 binary payloads (XHR2 clients), both ways.
const std::string_view kBinaryType = "application/octet-stream";
// The answer of a poll is built in one string per thread, kept while at most
// this large (send_response keeps its buffer to 64 KiB alike).
constexpr std::size_t kPollBodyKeep = 64 * 1024;

// Detaches a WebSocket from its session and closes it at its next WRITEABLE.
void close_soon(lws* wsi) {
  auto* pss = static_cast<ConnectionState*>(lws_wsi_user(wsi));
  if (pss) {
    pss->entry = nullptr;
    pss->role = Role::WsClosing;
  }
  lws_callback_on_writable(wsi);
}

}  // namespace

engineio::RequestInfo request_info(const HttpRequest& req, bool upgrade) {
  engineio::RequestInfo info;
  info.method = req.method;
  info.eio = req.query_param("EIO");
  info.transport = req.query_param("transport");
  info.sid = req.query_param("sid");
  info.origin = req.origin ? &*req.origin : nullptr;
  info.websocket_upgrade = upgrade;
  return info;
}

// ---------------------------------------------------------------- entry

SessionEntry::SessionEntry(EngineIoEndpoint& owner) : endpoint(owner) {}

SessionEntry::~SessionEntry() {
  if (lws* wsi = poll_wsi()) {
    auto* pss = static_cast<ConnectionState*>(lws_wsi_user(wsi));
    if (pss) pss->entry = nullptr;
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  }
  if (poll_own()) endpoint.drop_own_held(*this);
  if (ws_wsi) close_soon(ws_wsi);
  if (probe_wsi) close_soon(probe_wsi);
  drop_poll();
  ws_wsi = probe_wsi = nullptr;
  std::string key;
  if (address_counted && session)
    key = endpoint.limit_key(std::string(session->handshake().address()));
  // The session (and its handler) goes before the writer forgets this
  // entry: nothing it does on the way out can leave it on the writer's list.
  session.reset();
  endpoint.writer().forget(*this);
  if (address_counted) endpoint.address_limits().remove_session(key, endpoint.timers().now());
}

void SessionEntry::on_session_activity(Session& s) {
  if (poll_held() && s.poll_ready()) wake_poll();
  if (probe_wsi) {
    if (s.probe_active()) {
      lws_callback_on_writable(probe_wsi);
    } else {
      close_soon(probe_wsi);
      probe_wsi = nullptr;
    }
  }
  if (ws_wsi) write_or_wait(s);
  if (s.finished()) endpoint.schedule_reap(*this);
}

// Frames are written at the end of the loop turn (WsWriter), several to a
// write; closing, and what lws could not send yet, wait for WRITEABLE.
void SessionEntry::write_or_wait(Session& s) {
  if (!s.has_frames() && s.open()) return;
  if (s.open() && !lws_partial_buffered(ws_wsi))
    endpoint.writer().defer(*this);
  else
    lws_callback_on_writable(ws_wsi);
}

void SessionEntry::write_now() {
  if (poll_held() && poll_woken) endpoint.answer_held_poll(*this);
  if (!ws_wsi) return;
  Session& s = *session;
  if (s.has_frames() && !lws_partial_buffered(ws_wsi) &&
      !endpoint.writer().write_queued(ws_wsi, s)) {
    // Outside lws's service here: wake it so that the kill runs now.
    lws_set_timeout(ws_wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    lws_cancel_service(endpoint.context());
    return;
  }
  if (s.has_frames() || !s.open()) lws_callback_on_writable(ws_wsi);
}

// The held GET is answered when the turn ends (WsWriter), with everything
// the session queued until then, and without a WRITEABLE round trip.
void SessionEntry::wake_poll() {
  if (poll_woken) return;
  poll_woken = true;
  endpoint.writer().defer(*this);
}

void SessionEntry::schedule_peek() {
  peek_timer.arm(*this, endpoint.timers(), kPeekInterval);
}

// A held GET whose client went away: lws does not read the socket while the
// request is parked (it would not read it in that state either, and the
// level-triggered POLLIN of a half-closed socket would spin the loop), so
// look for EOF ourselves. The connection is closed here and now: this runs
// from a timer, outside any callback of `poll_wsi`, and an asynchronous kill
// waits for lws to service its own timers, which its libev glue does only
// from an idle watcher that any steady stream of events starves.
void SessionEntry::peek() {
  lws* wsi = poll_wsi();
  if (!wsi) return;
  char c;
  ssize_t n = recv(lws_get_socket_fd(wsi), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    // Closing calls on_http_closed(), which releases the held GET.
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    return;
  }
  schedule_peek();
}

// ---------------------------------------------------------------- endpoint

EngineIoEndpoint::EngineIoEndpoint(EndpointOptions options, HandlerFactory factory,
                                   loop::LwsTimerQueue& timers)
    : options_(std::move(options)),
      factory_(std::move(factory)),
      timers_(timers),
      reap_timer_(timers, [this] { reap(); }),
      address_limits_(timers, options_.per_address),
      handshake_budget_(options_.handshakes, timers.now()),
      release_timer_(timers, [this] { release_handshakes(); }) {}

EngineIoEndpoint::~EngineIoEndpoint() {
  reap_timer_.disarm();
  release_timer_.disarm();
  std::vector<SessionEntry*> all;
  all.reserve(sessions_.size());
  sessions_.for_each([&](SessionEntry& entry) { all.push_back(&entry); });
  for (SessionEntry* entry : all) remove(entry);
}

// Out of the table first, then deleted: the table never holds a dangling entry.
void EngineIoEndpoint::remove(SessionEntry* entry) {
  sessions_.erase(*entry);
  delete entry;
}

bool EngineIoEndpoint::matches(std::string_view path) const {
  return path.substr(0, options_.path.size()) == options_.path;
}

SessionEntry* EngineIoEndpoint::find(const std::string* sid) {
  return sid ? find(std::string_view(*sid)) : nullptr;
}

SessionEntry* EngineIoEndpoint::find(std::string_view sid) {
  SessionEntry* entry = sessions_.find(sid);
  if (entry == nullptr || entry->session->closed()) return nullptr;
  return entry;
}

engineio::SessionLookup EngineIoEndpoint::lookup(const std::string* sid) {
  SessionEntry* e = find(sid);
  if (e) e->session->catch_up_heartbeat();
  if (!e || e->session->closed()) return {};
  return {true, e->session->transport() == TransportKind::WebSocket};
}

std::vector<engineio::Header> EngineIoEndpoint::response_headers(const HttpRequest& req) const {
  std::vector<engineio::Header> h;
  add_cors_headers(options_.cors, req.origin ? &*req.origin : nullptr, h);
  return h;
}

std::vector<engineio::Header> EngineIoEndpoint::response_headers(lws* wsi) const {
  std::vector<engineio::Header> h;
  if (!options_.cors.enabled) return h;
  std::optional<std::string> origin = read_header(wsi, WSI_TOKEN_ORIGIN);
  add_cors_headers(options_.cors, origin ? &*origin : nullptr, h);
  return h;
}

int EngineIoEndpoint::refuse(lws* wsi, const HttpRequest& req, ErrorCode code, bool close_after) {
  return send_response(wsi, static_cast<unsigned>(engineio::error_status(code)), "application/json",
                       engineio::error_body(code), response_headers(req), close_after);
}

std::string EngineIoEndpoint::client_address(lws* wsi) const {
  std::string peer = peer_address(wsi);
  if (options_.trusted_proxies.empty()) return peer;
  auto forwarded = read_header(wsi, WSI_TOKEN_X_FORWARDED_FOR);
  return options_.trusted_proxies.client_address(peer, forwarded ? *forwarded : std::string());
}

std::string EngineIoEndpoint::limit_key(const std::string& address) const {
  return options_.limits_exempt.contains(address) ? std::string() : address_key(address);
}

// 429 with the Engine.IO error shape; the message names the limit.
int EngineIoEndpoint::refuse_address(lws* wsi, std::vector<engineio::Header> headers,
                                     AddressLimits::Verdict verdict) {
  std::string_view what = verdict == AddressLimits::Verdict::TooManyHandshakes
                              ? "Too many handshakes from this address"
                              : "Too many sessions from this address";
  std::string body = R"({"code":4,"message":")" + std::string(what) + "\"}";
  log::debug("engine.io handshake refused: {}", what);
  return send_response(wsi, 429, "application/json", body, headers);
}

engineio::Handshake EngineIoEndpoint::make_handshake(lws* wsi, const HttpRequest& req,
                                                     std::string address) const {
  engineio::HeaderList query;
  for (const auto& [name, value] : req.query) query.add(name, value);
  engineio::Handshake hs(address, request_url(req), read_headers(wsi, options_.handshake_headers),
                         query);
  hs.secure = lws_is_ssl(wsi) != 0;  // socket.io: the connection is encrypted
  return hs;
}

// `hs` from make_handshake, perhaps a while ago (a held handshake): issued now.
SessionEntry& EngineIoEndpoint::create_session(TransportKind kind, engineio::Handshake hs,
                                               std::string key) {
  // Wall-clock time, as socket.io's handshake.issued (lws_now_usecs is monotonic).
  hs.issued_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string sid;
  do {  // 120 random bits: a second round is only a defence
    sid = engineio::generate_id();
    if (router_) sid.replace(0, router_->tag().size(), router_->tag());
  } while (sessions_.find(sid) != nullptr);
  auto* entry = new SessionEntry(*this);
  entry->session.emplace(std::move(sid), kind, std::move(hs), options_.eio, timers_, *entry);
  entry->session->set_budget(&budget_);
  // The key is limit_key(the handshake's address): the entry computes it again.
  entry->address_counted = !key.empty();
  SessionEntry& ref = *entry;
  sessions_.insert(ref);
  ++stats_.sessions_opened;
  ref.session->start(factory_(*ref.session));
  log::debug("engine.io session {} opened over {}", ref.session->id(), engineio::to_string(kind));
  return ref;
}

int EngineIoEndpoint::on_http(lws* wsi, ConnectionState* pss, const HttpRequest& req) {
  if (req.method == engineio::Method::Options && options_.cors.enabled) {
    std::vector<engineio::Header> h;
    auto acrh = read_header(wsi, WSI_TOKEN_HTTP_AC_REQUEST_HEADERS);
    add_preflight_headers(options_.cors, req.origin ? &*req.origin : nullptr,
                          acrh ? &*acrh : nullptr, h);
    return send_response(wsi, 204, {}, {}, h);
  }
  const std::string* sid = req.query_param("sid");
  if (elsewhere(wsi, sid) && valid_elsewhere(req, false)) {
    if (req.method == engineio::Method::Post) return start_post_forward(wsi, pss, req);
    if (req.method == engineio::Method::Get) return forwarder_->forward_poll(wsi, pss, req, {});
  }
  auto verdict = engineio::verify_request(
      request_info(req, false),
      {options_.eio.allow_polling, options_.eio.allow_websocket, options_.eio.allow_eio3},
      lookup(sid));
  if (req.method == engineio::Method::Post) {
    SessionEntry* entry = verdict ? nullptr : find(sid);
    if (!entry) {
      pss->role = Role::PostRejected;
      pss->pending_error = static_cast<int16_t>(verdict ? *verdict : ErrorCode::BadRequest);
    }
    return start_post(wsi, pss, entry, req);
  }
  if (verdict) return refuse(wsi, req, *verdict);
  if (!sid) return handshake_polling(wsi, pss, req);
  // The reference answers other methods on a session with a bare 500.
  if (req.method != engineio::Method::Get)
    return send_response(wsi, 500, {}, {}, response_headers(req));
  return poll(wsi, pss, *find(sid), req);
}

// The per-address limits first, then the server-wide budget, which may hold
// the request a while (handshake_admission.cpp).
int EngineIoEndpoint::handshake_polling(lws* wsi, ConnectionState* pss, const HttpRequest& req) {
  if (shutting_down_) return refuse_stopping(wsi, response_headers(req));
  std::string address = client_address(wsi);
  std::string key = limit_key(address);
  if (!key.empty()) {
    auto verdict = address_limits_.check_session(key, timers_.now());
    if (verdict != AddressLimits::Verdict::Admit)
      return refuse_address(wsi, response_headers(req), verdict);
  }
  engineio::Handshake hs = make_handshake(wsi, req, std::move(address));
  auto verdict = admit(wsi, pss, Role::HandshakeHeld, hs, key);
  if (!verdict) return 0;
  if (*verdict == HandshakeBudget::Verdict::Refuse) return refuse_busy(wsi, response_headers(req));
  return open_polling(wsi, std::move(hs), std::move(key));
}

int EngineIoEndpoint::open_polling(lws* wsi, engineio::Handshake hs, std::string key) {
  if (!key.empty()) {
    auto verdict = address_limits_.add_session(key, timers_.now());
    if (verdict != AddressLimits::Verdict::Admit)
      return refuse_address(wsi, response_headers(wsi), verdict);
  }
  SessionEntry& entry = create_session(TransportKind::Polling, std::move(hs), std::move(key));
  entry.session->begin_poll();
  return answer_poll(wsi, entry);
}

int EngineIoEndpoint::poll(lws* wsi, ConnectionState* pss, SessionEntry& entry,
                           const HttpRequest& req) {
  switch (entry.session->begin_poll()) {
    case Session::PollStart::Overlap:
      return send_response(wsi, 400, {}, {}, response_headers(req));
    case Session::PollStart::Answer:
      return answer_poll(wsi, entry);
    case Session::PollStart::Hold:
      break;
  }
  pss->role = Role::PollHeld;
  pss->entry = &entry;
  entry.hold_poll(wsi);
  entry.poll_woken = false;
  lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
  lws_rx_flow_control(wsi, 0);
  entry.schedule_peek();
  return 0;
}

void EngineIoEndpoint::release_held_poll(lws* wsi, ConnectionState* pss, SessionEntry& entry) {
  if (pss) {
    pss->role = Role::None;
    pss->entry = nullptr;
  }
  if (wsi != nullptr && entry.poll_wsi() == wsi) {
    entry.drop_poll();
    entry.poll_woken = false;
    entry.peek_timer.release();
  }
}

void EngineIoEndpoint::answer_held_poll(SessionEntry& entry) {
  if (entry.poll_own()) return answer_own_held(entry);
  lws* wsi = entry.poll_wsi();
  release_held_poll(wsi, static_cast<ConnectionState*>(lws_wsi_user(wsi)), entry);
  lws_rx_flow_control(wsi, 1);  // outside a callback of `wsi`: applied now
  if (answer_poll(wsi, entry) == 0) return;
  // The answer ends the connection (the client asked for it, or the write
  // failed). Closed here and now, outside any callback of `wsi`: an
  // asynchronous kill would wait for lws to service its timers, and on libev
  // it does that only from an idle watcher, which the client's FIN starves
  // (lws never reads it in this state, so it is pending every turn and the
  // loop spins until lws's own timer comes round).
  lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

int EngineIoEndpoint::answer_poll(lws* wsi, SessionEntry& entry) {
  static const std::vector<engineio::Header> kNoStore{{"cache-control", "no-store"}};
  thread_local std::string body;
  entry.session->end_poll(body);
  std::vector<engineio::Header> cors;
  if (options_.cors.enabled) {
    cors = response_headers(wsi);
    cors.emplace_back("cache-control", "no-store");
  }
  const auto& headers = options_.cors.enabled ? cors : kNoStore;
  ++stats_.messages_out;
  stats_.bytes_out += body.size();
  int rc = send_response(wsi, 200, entry.session->poll_body_binary() ? kBinaryType : kPollingType,
                         body, headers);
  if (body.capacity() > kPollBodyKeep) std::string().swap(body);
  if (entry.session->finished()) schedule_reap(entry);
  return rc;
}

int EngineIoEndpoint::on_http_writeable(lws* wsi, ConnectionState* pss) {
  if (pss->role == Role::HandshakeHeld) return finish_held_poll(wsi, pss);
  if (pss->role == Role::Forwarded)
    return forwarder_ ? forwarder_->on_http_writeable(wsi, pss) : -1;
  // A held GET is answered by the writer; WRITEABLE only finishes what the
  // kernel did not take.
  if (pss->role != Role::PollHeld) return 0;
  if (!pss->entry) return -1;
  return 0;
}

void EngineIoEndpoint::on_http_closed(ConnectionState* pss) {
  drop_held(pss);
  // A POST whose connection went before its body was whole ends with it
  // (else every later POST of the session is refused as overlapping).
  if (pss->role == Role::Post)
    if (SessionEntry* entry = find(std::string_view(pss->sid))) entry->session->end_post();
  post_body_.release(pss);
  if (pss->role == Role::Forwarded && forwarder_) forwarder_->on_http_closed(pss);
  if (pss->role == Role::PollHeld && pss->entry) {
    SessionEntry* entry = pss->entry;
    release_held_poll(entry->poll_wsi(), pss, *entry);
    entry->session->poll_aborted();
    if (entry->session->finished()) schedule_reap(*entry);
  }
  pss->buffer.release();
}

// A POST's body length within maxHttpBufferSize; nullopt once 413 or 411 was
// answered (`answered`: what send_response returned).
std::optional<std::size_t> EngineIoEndpoint::post_length(lws* wsi, const HttpRequest& req,
                                                         int& answered) {
  std::size_t len = 0;
  switch (request_body_length(wsi, options_.eio.max_payload, len)) {
    case BodyLength::TooLarge:
      answered = send_response(wsi, 413, {}, {}, response_headers(req), true);
      return std::nullopt;
    case BodyLength::LengthRequired:
      answered = send_response(wsi, 411, {}, {}, response_headers(req), true);
      return std::nullopt;
    case BodyLength::Ok:
      break;
  }
  return len;
}

int EngineIoEndpoint::start_post(lws* wsi, ConnectionState* pss, SessionEntry* entry,
                                 const HttpRequest& req) {
  int answered = 0;
  std::optional<std::size_t> len = post_length(wsi, req, answered);
  if (!len) return answered;
  if (entry) {
    if (!entry->session->begin_post()) {
      pss->role = Role::PostRejected;
      pss->pending_error = -1;
    } else {
      pss->role = Role::Post;
      // The body is read for this session: into the endpoint's string
      // unless another POST's body is still coming.
      if (!post_body_.claim(pss)) pss->buffer.get();
      std::string_view sid = entry->session->id();
      std::snprintf(pss->sid, sizeof pss->sid, "%.*s", static_cast<int>(sid.size()), sid.data());
    }
  }
  if (*len == 0) return finish_post(wsi, pss);
  return 0;
}

int EngineIoEndpoint::on_http_body(lws*, ConnectionState* pss, const void* in, std::size_t len) {
  if (pss->role == Role::Post && post_body_.owned_by(pss)) {
    std::string& body = post_body_.text();
    if (body.size() + len > options_.eio.max_payload) return -1;
    body.append(static_cast<const char*>(in), len);
    return 0;
  }
  if ((pss->role != Role::Post && pss->role != Role::PostForward) || !pss->buffer) return 0;
  if (pss->buffer.size() + len > options_.eio.max_payload) return -1;
  pss->buffer.get().append(static_cast<const char*>(in), len);
  return 0;
}

int EngineIoEndpoint::on_http_body_completion(lws* wsi, ConnectionState* pss) {
  return finish_post(wsi, pss);
}

// The request was checked when its headers came (on_http); only a refusal
// reads it again, for the CORS headers of the error.
int EngineIoEndpoint::finish_post(lws* wsi, ConnectionState* pss) {
  Role role = pss->role;
  pss->role = Role::None;
  if (role == Role::PostForward) {
    HttpRequest req = read_request(wsi, options_.max_header);
    if (!forwarder_) return refuse(wsi, req, ErrorCode::UnknownSid);
    return forwarder_->forward_poll(wsi, pss, req, pss->buffer.take());
  }
  // Every refusal of a POST ends its connection (see the end of this function).
  if (role == Role::PostRejected) {
    if (pss->pending_error < 0) return send_response(wsi, 400, {}, {}, response_headers(wsi), true);
    return refuse(wsi, read_request(wsi, options_.max_header),
                  static_cast<ErrorCode>(pss->pending_error), true);
  }
  SessionEntry* entry = find(std::string_view(pss->sid));
  std::string own = pss->buffer.take();
  std::string_view body = post_body_.owned_by(pss) ? post_body_.text() : own;
  if (!entry) {
    post_body_.release(pss);
    return refuse(wsi, read_request(wsi, options_.max_header), ErrorCode::UnknownSid, true);
  }
  ++stats_.messages_in;
  stats_.bytes_in += body.size();
  bool ok = entry->session->on_post_body(
      body, header_equals(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, kBinaryType));
  post_body_.release(pss);
  entry->session->end_post();
  if (entry->session->finished()) schedule_reap(*entry);
  // A body that does not decode ends the connection too: lws 4.1 hands the
  // body of a POST pipelined behind another from the wrong place in its
  // buffer (the next request's own first bytes), and a keep-alive going on
  // from there would service those buffered bytes forever (the whole loop
  // spinning: tests/e2e/engineio-raw.test.mjs, pipelined requests).
  if (!ok) return refuse(wsi, read_request(wsi, options_.max_header), ErrorCode::BadRequest, true);
  return send_response(wsi, 200, "text/html", "ok", response_headers(wsi));
}

// ---------------------------------------------------------------- forwarding

void EngineIoEndpoint::set_forwarding(SessionRouter& router, loop::Reactor& reactor) {
  router_ = &router;
  forwarder_ = std::make_unique<SessionForwarder>(
      router, reactor, timers_, SessionForwarder::Options{options_.eio, options_.cors});
}

bool EngineIoEndpoint::elsewhere(lws* wsi, const std::string* sid) {
  return sid && forwarder_ && !find(sid) && forwarder_->wants(wsi, *sid);
}

// What the owner would refuse for any session is refused here.
bool EngineIoEndpoint::valid_elsewhere(const HttpRequest& req, bool upgrade) const {
  return !engineio::verify_request(
      request_info(req, upgrade),
      {options_.eio.allow_polling, options_.eio.allow_websocket, options_.eio.allow_eio3},
      {true, false});
}

int EngineIoEndpoint::start_post_forward(lws* wsi, ConnectionState* pss, const HttpRequest& req) {
  int answered = 0;
  std::optional<std::size_t> len = post_length(wsi, req, answered);
  if (!len) return answered;
  pss->role = Role::PostForward;
  pss->buffer.get();
  if (*len == 0) return finish_post(wsi, pss);
  return 0;
}

// ---------------------------------------------------------------- websocket

int EngineIoEndpoint::on_confirm_upgrade(lws* wsi) {
  HttpRequest req = read_request(wsi, options_.max_header);
  const std::string* sid = req.query_param("sid");
  if (elsewhere(wsi, sid) && valid_elsewhere(req, true)) return 0;
  auto verdict = engineio::verify_request(
      request_info(req, true),
      {options_.eio.allow_polling, options_.eio.allow_websocket, options_.eio.allow_eio3},
      lookup(sid));
  if (!verdict) {
    if (sid) return 0;
    if (shutting_down_) {
      refuse_stopping(wsi, response_headers(req));
      return 1;
    }
    std::string key = limit_key(client_address(wsi));
    auto limit = key.empty() ? AddressLimits::Verdict::Admit
                             : address_limits_.check_session(key, timers_.now());
    if (limit != AddressLimits::Verdict::Admit) {
      refuse_address(wsi, response_headers(req), limit);
      return 1;
    }
    if (handshake_budget_.check(timers_.now()) != HandshakeBudget::Verdict::Refuse) return 0;
    handshake_budget_.count_refusal();
    refuse_busy(wsi, response_headers(req));
    return 1;
  }
  std::string message(engineio::error_message(*verdict));
  send_response(wsi, 400, "text/html", message, {}, true);
  return 1;
}

int EngineIoEndpoint::on_ws_established(lws* wsi, ConnectionState* pss) {
  HttpRequest req = read_request(wsi, options_.max_header);
  const std::string* sid = req.query_param("sid");
  if (!sid) {
    std::string address = client_address(wsi);
    std::string key = limit_key(address);
    engineio::Handshake hs = make_handshake(wsi, req, std::move(address));
    auto verdict = admit(wsi, pss, Role::WsHeld, hs, key);
    if (!verdict) return 0;
    if (*verdict == HandshakeBudget::Verdict::Refuse) {
      // Checked at the upgrade already: only a race gets here.
      return close_with_frame(wsi, kTryAgainLater, kBusyReason);
    }
    return open_ws(wsi, pss, std::move(hs), std::move(key));
  }
  if (elsewhere(wsi, sid)) return forwarder_->carry(wsi, pss, req);
  SessionEntry* entry = find(sid);
  if (!entry || entry->probe_wsi || !entry->session->begin_upgrade()) return -1;
  pss->role = Role::WsProbe;
  pss->entry = entry;
  entry->probe_wsi = wsi;
  return 0;
}

int EngineIoEndpoint::open_ws(lws* wsi, ConnectionState* pss, engineio::Handshake hs,
                              std::string key) {
  if (!key.empty() &&
      address_limits_.add_session(key, timers_.now()) != AddressLimits::Verdict::Admit)
    return -1;  // checked at the upgrade already: only a race gets here
  SessionEntry& entry = create_session(TransportKind::WebSocket, std::move(hs), std::move(key));
  pss->role = Role::WsPrimary;
  pss->entry = &entry;
  entry.ws_wsi = wsi;
  lws_callback_on_writable(wsi);
  return 0;
}

int EngineIoEndpoint::on_ws_receive(lws* wsi, ConnectionState* pss, const void* in,
                                    std::size_t len) {
  if (!pss->session_entry() && pss->role != Role::WsCarried) return 0;
  std::string_view chunk(static_cast<const char*>(in), len);
  bool final = lws_is_final_fragment(wsi);
  if (!pss->buffer && final) return dispatch_ws(wsi, pss, chunk, lws_frame_is_binary(wsi));
  if (!pss->buffer) pss->rx_binary = lws_frame_is_binary(wsi);
  if (pss->buffer.size() + len + lws_remaining_packet_payload(wsi) > options_.eio.max_payload) {
    return close_with_frame(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, kTooLargeReason);
  }
  pss->buffer.get().append(chunk);
  if (!final) return 0;
  std::string message = pss->buffer.take();
  return dispatch_ws(wsi, pss, message, pss->rx_binary);
}

int EngineIoEndpoint::dispatch_ws(lws* wsi, ConnectionState* pss, std::string_view data,
                                  bool binary) {
  if (data.size() > options_.eio.max_payload) {
    return close_with_frame(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, kTooLargeReason);
  }
  if (pss->role == Role::WsCarried)
    return forwarder_ ? forwarder_->on_ws_message(wsi, pss, data, binary) : -1;
  SessionEntry* entry = pss->entry;
  Session& s = *entry->session;
  ++stats_.messages_in;
  stats_.bytes_in += data.size();
  if (pss->role == Role::WsPrimary) {
    if (binary)
      s.on_ws_binary(data);
    else
      s.on_ws_text(data);
    return 0;
  }
  if (pss->role != Role::WsProbe) return 0;
  auto result = binary ? Session::ProbeResult::Refused : s.on_probe_text(data);
  if (result == Session::ProbeResult::Refused) {
    s.on_probe_lost();
    entry->probe_wsi = nullptr;
    pss->entry = nullptr;
    return -1;
  }
  if (result == Session::ProbeResult::Upgraded) {
    // The session's activity callback saw the probe end; it becomes primary.
    entry->probe_wsi = nullptr;
    entry->ws_wsi = wsi;
    pss->role = Role::WsPrimary;
    pss->entry = entry;
    entry->on_session_activity(s);
  }
  return 0;
}

int EngineIoEndpoint::on_ws_writeable(lws* wsi, ConnectionState* pss) {
  if (pss->role == Role::WsHeld) return finish_held_ws(wsi, pss);
  if (pss->role == Role::WsCarried && forwarder_) return forwarder_->on_ws_writeable(wsi, pss);
  if (!pss->session_entry()) {  // WsClosing among others
    return close_with_frame(wsi, LWS_CLOSE_STATUS_NORMAL);
  }
  Session& s = *pss->entry->session;
  if (pss->role == Role::WsProbe) {
    engineio::FramePtr frame = s.take_probe_frame();
    return frame && !writer_.write_frame(wsi, *frame) ? -1 : 0;
  }
  if (!writer_.write_queued(wsi, s)) return -1;
  if (s.has_frames() || lws_partial_buffered(wsi)) {
    lws_callback_on_writable(wsi);
  } else if (!s.open()) {
    return close_with_frame(wsi, LWS_CLOSE_STATUS_NORMAL);
  }
  return 0;
}

void EngineIoEndpoint::on_ws_closed(ConnectionState* pss) {
  drop_held(pss);
  if (pss->role == Role::WsCarried && forwarder_) forwarder_->on_ws_closed(pss);
  SessionEntry* entry = pss->session_entry();
  pss->buffer.release();
  if (!entry) return;
  pss->entry = nullptr;
  if (pss->role == Role::WsPrimary && entry->ws_wsi) {
    entry->ws_wsi = nullptr;
    entry->session->on_transport_lost(false);
  } else if (pss->role == Role::WsProbe && entry->probe_wsi) {
    entry->probe_wsi = nullptr;
    entry->session->on_probe_lost();
  }
  if (entry->session->finished()) schedule_reap(*entry);
}

// ---------------------------------------------------------------- lifecycle

std::pair<std::size_t, std::size_t> EngineIoEndpoint::sessions_by_transport() const {
  std::size_t polling = 0, websocket = 0;
  sessions_.for_each([&](const SessionEntry& entry) {
    if (entry.session->closed()) return;
    if (entry.session->transport() == TransportKind::Polling)
      ++polling;
    else
      ++websocket;
  });
  return {polling, websocket};
}

void EngineIoEndpoint::close_all(CloseReason reason) {
  if (reason == CloseReason::ServerShuttingDown) shutting_down_ = true;
  sessions_.for_each([&](SessionEntry& entry) { entry.session->close(reason); });
}

void EngineIoEndpoint::hurry_unpolled(loop::Millis grace) {
  sessions_.for_each([&](SessionEntry& entry) {
    if (!entry.poll_held() && entry.session->transport() == TransportKind::Polling)
      entry.session->close_within(grace);
  });
}

void EngineIoEndpoint::schedule_reap(SessionEntry& entry) {
  reap_list_.emplace_back(entry.session->id());
  if (!reap_timer_.armed()) reap_timer_.arm(loop::Millis(0));
}

// Over the server-wide budget: the sessions with the largest backlogs (the
// slowest readers) go first, until the sum is within it again.
void EngineIoEndpoint::enforce_budget() {
  std::size_t limit = options_.max_buffered_total;
  if (limit == 0 || budget_.total() <= limit) return;
  std::vector<engineio::Session*> backlog;
  sessions_.for_each([&](SessionEntry& entry) {
    if (entry.session->buffered_bytes() > 0 && !entry.session->closed())
      backlog.push_back(&*entry.session);
  });
  std::sort(backlog.begin(), backlog.end(),
            [](const auto* a, const auto* b) { return a->buffered_bytes() > b->buffered_bytes(); });
  for (engineio::Session* s : backlog) {
    if (budget_.total() <= limit) break;
    log::warning(
        "engine.io session {} ({}) dropped: {} bytes queued, the largest while all sessions "
        "together queue {} (engineio.maxBufferedBytesTotal {})",
        s->id(), s->handshake().address(), s->buffered_bytes(), budget_.total(), limit);
    ++stats_.budget_drops;
    s->drop_slow_consumer();
  }
}

void EngineIoEndpoint::reap() {
  std::vector<std::string> list;
  list.swap(reap_list_);
  for (const auto& sid : list) {
    SessionEntry* entry = sessions_.find(sid);
    if (entry == nullptr || !entry->session->finished()) continue;
    if (entry->session->slow_consumer()) ++stats_.slow_consumer_closes;
    log::debug("engine.io session {} closed", sid);
    remove(entry);
  }
}

}  // namespace daheim::transport
