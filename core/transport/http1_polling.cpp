// Engine.IO long-polling on our own HTTP/1.1 handling (http1_connection):
// the steady path of a polling session held here. The requests lws would
// refuse (and the handshake, and sessions elsewhere) are not taken: serve_own
// returns false before anything changed, and lws answers them as before.
// What is answered here is answered with the bytes the lws path writes.

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

}  // namespace

bool EngineIoEndpoint::serve_own(Http1Connection& conn, const HttpRequest& req,
                                 std::string_view body, bool binary) {
  bool post = req.method == engineio::Method::Post;
  if (!post && req.method != engineio::Method::Get) return false;
  const std::string* sid = req.query_param("sid");
  SessionEntry* entry = find(sid);
  if (!entry) return false;  // the handshake, a session elsewhere or unknown
  auto verdict = engineio::verify_request(
      request_info(req, false),
      {options_.eio.allow_polling, options_.eio.allow_websocket, options_.eio.allow_eio3},
      lookup(sid));
  if (verdict) return false;
  std::vector<engineio::Header> cors = response_headers(req);
  Session& s = *entry->session;
  if (post) {
    // Every refusal of a POST ends its connection, as on the lws path.
    if (!s.begin_post()) {
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
  entry->poll_own = &conn;
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
  Http1Connection& conn = *entry.poll_own;
  entry.poll_own = nullptr;
  entry.poll_woken = false;
  std::vector<engineio::Header> cors;
  add_cors_headers(options_.cors, conn.held_origin(), cors);
  answer_own_poll(conn, entry, cors);
  conn.release_held(true);
}

void EngineIoEndpoint::own_poll_lost(SessionEntry& entry) {
  Http1Connection* conn = entry.poll_own;
  entry.poll_own = nullptr;
  entry.poll_woken = false;
  if (conn) conn->release_held(false);
  entry.session->poll_aborted();
  if (entry.session->finished()) schedule_reap(entry);
}

// The session goes while its GET is held: the connection ends unanswered, as
// the lws path kills a held GET's connection.
void EngineIoEndpoint::drop_own_held(SessionEntry& entry) {
  Http1Connection* conn = entry.poll_own;
  entry.poll_own = nullptr;
  conn->release_held(false);
  conn->end();
}

}  // namespace daheim::transport
