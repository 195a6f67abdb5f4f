// Engine.IO long-polling on our own HTTP/1.1 handling (http1_connection):
// the steady path of a polling session held here. The requests lws would
// refuse (and the handshake, and sessions elsewhere) are not taken: serve_own
// returns false before anything changed, and lws answers them as before.
// What is answered here is answered with the bytes the lws path writes.

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "log/log.hpp"
#include "transport/engineio_endpoint.hpp"
#include "transport/http1_connection.hpp"

namespace daheim::transport {

using engineio::ErrorCode;
using engineio::Session;

namespace {

const std::string_view kPollingType = "text/plain; charset=UTF-8";
const std::string_view kBinaryType = "application/octet-stream";
constexpr std::size_t kPollBodyKeep = 64 * 1024;

// The peer's address as lws_get_peer_simple() gives it.
std::string peer_of(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
  char text[INET6_ADDRSTRLEN] = "";
  const void* where = nullptr;
  if (addr.ss_family == AF_INET) where = &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr;
  if (addr.ss_family == AF_INET6) where = &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr;
  if (!where || !inet_ntop(addr.ss_family, where, text, sizeof text)) return {};
  return text;
}

// The names of the headers lws parses, lower-case, in its token order: what
// read_headers() can give a handshake.
const std::vector<std::string>& lws_header_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (int t = 0; t < WSI_TOKEN_COUNT; ++t) {
      const char* name =
          reinterpret_cast<const char*>(lws_token_to_string(static_cast<lws_token_indexes>(t)));
      std::string_view n = name ? name : "";
      if (n.size() < 2 || n.back() != ':' || n.front() == ':') continue;
      std::string lower(n.substr(0, n.size() - 1));
      for (char& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      out.push_back(std::move(lower));
    }
    return out;
  }();
  return names;
}

// The handshake's headers as read_headers() reads them from lws; false when
// a header lws knows comes twice (lws joins those: left to it).
bool handshake_headers(const http1::Request& head, const engineio::HeaderFilter& keep,
                       engineio::HeaderList& out) {
  for (const std::string& name : lws_header_names()) {
    if (!keep.keeps(name)) continue;
    const std::string_view* value = nullptr;
    for (std::size_t i = 0; i < head.header_count; ++i) {
      if (!http1::equals_lower(head.headers[i].name, name)) continue;
      if (value) return false;
      value = &head.headers[i].value;
    }
    if (value && !value->empty()) out.add(name, std::string(*value));
  }
  out.shrink();
  return true;
}

}  // namespace

// A polling handshake that the limits and the budget admit at once (one that
// would wait or be refused is left to lws, which checks the same again).
bool EngineIoEndpoint::own_handshake(Http1Connection& conn, const HttpRequest& req,
                                     const http1::Request& head) {
  if (shutting_down_ || !options_.trusted_proxies.empty()) return false;
  auto verdict = engineio::verify_request(
      request_info(req, false),
      {options_.eio.allow_polling, options_.eio.allow_websocket, options_.eio.allow_eio3},
      lookup(nullptr));
  if (verdict) return false;
  std::string address = peer_of(conn.fd());
  if (address.empty()) return false;
  std::string key = limit_key(address);
  loop::TimePoint now = timers_.now();
  if (!key.empty() && !address_limits_.admits_session(key, now)) return false;
  if (handshake_budget_.check(now) != HandshakeBudget::Verdict::Admit) return false;
  engineio::HeaderList headers;
  if (!handshake_headers(head, options_.handshake_headers, headers)) return false;
  engineio::HeaderList query;
  for (const auto& [name, value] : req.query) query.add(name, value);
  engineio::Handshake hs(address, request_url(req), std::move(headers), query);
  // Both were checked just now, in this turn: they admit.
  handshake_budget_.request(next_handshake_++, now);
  if (!key.empty()) address_limits_.add_session(key, now);
  SessionEntry& entry =
      create_session(engineio::TransportKind::Polling, std::move(hs), std::move(key));
  entry.session->begin_poll();
  answer_own_poll(conn, entry, response_headers(req));
  return true;
}

// The session of a polling request that the lws path would serve (not
// refuse): null when it is not ours.
SessionEntry* EngineIoEndpoint::own_session(const HttpRequest& req) {
  const std::string* sid = req.query_param("sid");
  SessionEntry* entry = find(sid);
  if (!entry) return nullptr;  // a session elsewhere or unknown
  auto verdict = engineio::verify_request(
      request_info(req, false),
      {options_.eio.allow_polling, options_.eio.allow_websocket, options_.eio.allow_eio3},
      lookup(sid));
  return verdict ? nullptr : entry;
}

EngineIoEndpoint::OwnPost EngineIoEndpoint::begin_own_post(Http1Connection& conn,
                                                           const HttpRequest& req) {
  SessionEntry* entry = own_session(req);
  if (!entry) return OwnPost::NotOurs;
  if (entry->session->begin_post()) return OwnPost::Begun;
  // Every refusal of a POST ends its connection, as on the lws path.
  conn.respond(400, {}, {}, response_headers(req), true);
  return OwnPost::Answered;
}

bool EngineIoEndpoint::serve_own(Http1Connection& conn, const HttpRequest& req,
                                 const http1::Request& head, std::string_view body, bool binary,
                                 bool begun) {
  bool post = req.method == engineio::Method::Post;
  if (!post && req.method != engineio::Method::Get) return false;
  if (!post && !req.query_param("sid")) return own_handshake(conn, req, head);
  SessionEntry* entry = begun ? find(req.query_param("sid")) : own_session(req);
  std::vector<engineio::Header> cors = response_headers(req);
  if (begun && !entry) {
    conn.respond(400, "application/json", engineio::error_body(ErrorCode::UnknownSid), cors, true);
    return true;
  }
  if (!entry) return false;
  Session& s = *entry->session;
  if (post) {
    // Every refusal of a POST ends its connection, as on the lws path.
    if (!begun && !s.begin_post()) {
      conn.respond(400, {}, {}, cors, true);
      return true;
    }
    ++stats_.messages_in;
    stats_.bytes_in += body.size();
    bool ok = s.on_post_body(body, binary);
    s.end_post();
    if (s.finished()) schedule_reap(*entry);
    if (!ok) {
      conn.respond(400, "application/json", engineio::error_body(ErrorCode::BadRequest), cors,
                   true);
      return true;
    }
    conn.respond(200, "text/html", "ok", cors);
    return true;
  }
  switch (s.begin_poll()) {
    case Session::PollStart::Overlap:
      conn.respond(400, {}, {}, cors);
      return true;
    case Session::PollStart::Answer:
      answer_own_poll(conn, *entry, cors);
      return true;
    case Session::PollStart::Hold:
      break;
  }
  // Held until the session has something to say: answered by the writer at
  // the end of the turn (SessionEntry::write_now). The connection goes on
  // reading, so a client that goes away is seen at once (no peek).
  entry->hold_poll(&conn);
  entry->poll_woken = false;
  conn.hold(*entry);
  return true;
}

void EngineIoEndpoint::answer_own_poll(Http1Connection& conn, SessionEntry& entry,
                                       const std::vector<engineio::Header>& cors) {
  thread_local std::string body;
  thread_local std::vector<engineio::Header> headers;
  entry.session->end_poll(body);
  headers = cors;  // reuses the strings
  headers.emplace_back("cache-control", "no-store");
  ++stats_.messages_out;
  stats_.bytes_out += body.size();
  conn.respond(200, entry.session->poll_body_binary() ? kBinaryType : kPollingType, body, headers);
  if (body.capacity() > kPollBodyKeep) std::string().swap(body);
  if (entry.session->finished()) schedule_reap(entry);
}

void EngineIoEndpoint::answer_own_held(SessionEntry& entry) {
  Http1Connection& conn = *entry.poll_own();
  entry.drop_poll();
  entry.poll_woken = false;
  std::vector<engineio::Header> cors;
  add_cors_headers(options_.cors, conn.held_origin(), cors);
  answer_own_poll(conn, entry, cors);
  conn.release_held(true);
}

void EngineIoEndpoint::own_poll_lost(SessionEntry& entry) {
  Http1Connection* conn = entry.poll_own();
  entry.drop_poll();
  entry.poll_woken = false;
  if (conn) conn->release_held(false);
  entry.session->poll_aborted();
  if (entry.session->finished()) schedule_reap(entry);
}

// The session's POST in flight is this one: begin_post() refuses another.
void EngineIoEndpoint::own_post_lost(std::string_view sid) {
  if (SessionEntry* entry = find(sid)) entry->session->end_post();
}

// The session goes while its GET is held: the connection ends unanswered, as
// the lws path kills a held GET's connection.
void EngineIoEndpoint::drop_own_held(SessionEntry& entry) {
  Http1Connection* conn = entry.poll_own();
  entry.drop_poll();
  conn->release_held(false);
  conn->end();
}

}  // namespace daheim::transport
