#include "transport/session_forwarder.hpp"

#include <cctype>
#include <optional>

#include "engineio/request.hpp"
#include "log/log.hpp"
#include "transport/ws_close.hpp"

namespace daheim::transport {

struct ForwardedPoll {
  uint64_t id = 0;
  lws* wsi = nullptr;
  bool post = false;
  bool answered = false;
  bool unknown = false;  // no live owner: answer "Session ID unknown" here
  std::chrono::steady_clock::time_point started;
  std::string sid;
  std::optional<std::string> origin;
  std::unique_ptr<HttpForward> http;
  ForwardedResponse response;
};

struct CarriedSocket {
  uint64_t id = 0;
  lws* wsi = nullptr;
  bool owner_gone = false;
  std::string sid;
  std::unique_ptr<WsUpstream> up;
  std::deque<std::pair<std::string, bool>> to_client;  // LWS_PRE bytes, then the message
  std::size_t queued = 0;
};

namespace {

// The header a forwarded request carries: its receiver serves it itself.
constexpr std::string_view kForwardedHeader = "x-daheim-forwarded";
constexpr loop::Millis kConnectTimeout{2000};

void append_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

}  // namespace

void ForwardStats::Histogram::observe(std::chrono::steady_clock::duration d) {
  double s = std::chrono::duration<double>(d).count();
  sum += s;
  static constexpr double kUpper[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05,   0.1,     0.25,   0.5,   1,      5,     30};
  std::size_t i = 0;
  while (i < std::size(kUpper) && s > kUpper[i]) ++i;
  ++buckets[i];
}

SessionForwarder::SessionForwarder(SessionRouter& router, loop::Reactor& reactor,
                                   loop::TimerQueue& timers, Options options)
    : router_(router),
      reactor_(reactor),
      timers_(timers),
      options_(std::move(options)),
      pool_(reactor, timers, ForwardPool::Limits{}) {}

SessionForwarder::~SessionForwarder() {
  for (auto& [id, p] : polls_)
    if (auto* pss = static_cast<ConnectionState*>(lws_wsi_user(p->wsi))) pss->forwarded = nullptr;
  for (auto& [id, c] : carried_)
    if (auto* pss = static_cast<ConnectionState*>(lws_wsi_user(c->wsi))) pss->carried = nullptr;
}

bool SessionForwarder::wants(lws* wsi, const std::string& sid) const {
  const std::string& tag = router_.tag();
  if (sid.size() < tag.size() || sid.compare(0, tag.size(), tag) == 0) return false;
  return !read_header_named(wsi, kForwardedHeader);
}

// Only what the owner needs of the query: the session's own parameters.
std::string SessionForwarder::target(const HttpRequest& req) const {
  std::string out = req.path;
  char sep = '?';
  for (const auto& [k, v] : req.query) {
    if (k != "EIO" && k != "transport" && k != "sid" && k != "t" && k != "b64") continue;
    out += sep;
    append_encoded(out, k);
    out += '=';
    append_encoded(out, v);
    sep = '&';
  }
  return out;
}

int SessionForwarder::forward_poll(lws* wsi, ConnectionState* pss, const HttpRequest& req,
                                   std::string body) {
  auto p = std::make_unique<ForwardedPoll>();
  uint64_t id = next_id_++;
  p->id = id;
  p->wsi = wsi;
  p->post = req.method == engineio::Method::Post;
  p->started = std::chrono::steady_clock::now();
  p->sid = *req.query_param("sid");
  p->origin = req.origin;
  std::string request = (p->post ? "POST " : "GET ") + target(req) +
                        " HTTP/1.1\r\nHost: daheim-live\r\nX-Daheim-Forwarded: 1\r\n";
  if (req.origin) request += "Origin: " + *req.origin + "\r\n";
  if (p->post) {
    if (auto type = read_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE))
      request += "Content-Type: " + *type + "\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n";
  request += body;
  pss->role = Role::Forwarded;
  pss->forwarded = p.get();
  lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
  std::string sid = p->sid;
  polls_.emplace(id, std::move(p));
  router_.locate(sid, [this, id, request = std::move(request)](const std::string& address) {
    auto it = polls_.find(id);
    if (it == polls_.end()) return;
    if (address.empty()) return answer_poll(id, nullptr, false);
    HttpForward::Limits limits;
    limits.connect_timeout = kConnectTimeout;
    // A held GET is answered by the owner's next ping at the latest.
    limits.answer_timeout =
        options_.eio.ping_interval + options_.eio.ping_timeout + loop::Millis(5000);
    limits.max_response = options_.eio.max_buffered_bytes + options_.eio.max_payload + 65536;
    it->second->http = std::make_unique<HttpForward>(
        pool_, limits,
        [this, id](const ForwardedResponse* r, bool reachable) { answer_poll(id, r, reachable); });
    if (!it->second->http->start(address, request)) answer_poll(id, nullptr, false);
  });
  return 0;
}

void SessionForwarder::answer_poll(uint64_t id, const ForwardedResponse* response, bool reachable) {
  auto it = polls_.find(id);
  if (it == polls_.end() || it->second->answered) return;
  ForwardedPoll& p = *it->second;
  p.answered = true;
  if (response) {
    p.response = *response;
    ++stats_.polls_forwarded;
    (p.post ? stats_.post_latency : stats_.get_latency)
        .observe(std::chrono::steady_clock::now() - p.started);
  } else if (!reachable) {
    router_.forget(p.sid);
    p.unknown = true;
    ++stats_.polls_unknown;
  } else {
    p.response.status = 502;
    ++stats_.polls_failed;
    log::warning("forwarding: the node holding session {} did not answer", p.sid);
  }
  lws_callback_on_writable(p.wsi);
}

int SessionForwarder::on_http_writeable(lws* wsi, ConnectionState* pss) {
  ForwardedPoll* p = pss->forwarded;
  if (!p) return -1;
  if (!p->answered) return 0;
  pss->role = Role::None;
  pss->forwarded = nullptr;
  auto node = polls_.extract(p->id);
  ForwardedPoll& done = *node.mapped();
  std::vector<engineio::Header> headers;
  if (done.unknown || done.response.status == 502) {
    add_cors_headers(options_.cors, done.origin ? &*done.origin : nullptr, headers);
    if (done.unknown)
      return send_response(wsi, 400, "application/json",
                           engineio::error_body(engineio::ErrorCode::UnknownSid), headers);
    return send_response(wsi, 502, {}, {}, headers);
  }
  ForwardedResponse& r = done.response;
  return send_response(wsi, r.status, r.content_type, r.body, r.headers);
}

void SessionForwarder::on_http_closed(ConnectionState* pss) {
  if (ForwardedPoll* p = pss->forwarded) {
    pss->forwarded = nullptr;
    polls_.erase(p->id);
  }
}

// ---------------------------------------------------------------- websocket

int SessionForwarder::carry(lws* wsi, ConnectionState* pss, const HttpRequest& req) {
  auto c = std::make_unique<CarriedSocket>();
  uint64_t id = next_id_++;
  c->id = id;
  c->wsi = wsi;
  c->sid = *req.query_param("sid");
  WsUpstream::Limits limits;
  limits.connect_timeout = kConnectTimeout;
  limits.max_message = options_.eio.max_payload;
  limits.max_buffered = options_.eio.max_buffered_bytes;
  c->up = std::make_unique<WsUpstream>(
      reactor_, timers_, limits,
      WsUpstream::Handlers{
          {},
          [this, id](std::string_view data, bool binary) { owner_message(id, data, binary); },
          [this, id](const char*) { owner_closed(id); }});
  pss->role = Role::WsCarried;
  pss->carried = c.get();
  std::string headers = "X-Daheim-Forwarded: 1\r\n";
  if (req.origin) headers += "Origin: " + *req.origin + "\r\n";
  std::string sid = c->sid;
  carried_.emplace(id, std::move(c));
  ++stats_.websockets_carried;
  router_.locate(sid, [this, id, target = target(req), headers](const std::string& address) {
    auto it = carried_.find(id);
    if (it == carried_.end()) return;
    if (address.empty() || !it->second->up->start(address, target, headers)) {
      router_.forget(it->second->sid);
      owner_closed(id);
    }
  });
  return 0;
}

int SessionForwarder::on_ws_message(lws*, ConnectionState* pss, std::string_view data,
                                    bool binary) {
  CarriedSocket* c = pss->carried;
  if (!c || c->owner_gone) return 0;
  ++stats_.messages_carried;
  return c->up->send(data, binary) ? 0 : -1;
}

void SessionForwarder::owner_message(uint64_t id, std::string_view data, bool binary) {
  auto it = carried_.find(id);
  if (it == carried_.end()) return;
  CarriedSocket& c = *it->second;
  if (c.owner_gone) return;
  ++stats_.messages_carried;
  if (c.queued + data.size() > options_.eio.max_buffered_bytes) {
    log::warning("forwarding: client of session {} too slow, closing its WebSocket", c.sid);
    return owner_closed(id);
  }
  std::string buf(LWS_PRE, '\0');
  buf.append(data);
  c.queued += data.size();
  c.to_client.emplace_back(std::move(buf), binary);
  lws_callback_on_writable(c.wsi);
}

void SessionForwarder::owner_closed(uint64_t id) {
  auto it = carried_.find(id);
  if (it == carried_.end()) return;
  CarriedSocket& c = *it->second;
  if (c.owner_gone) return;
  if (!c.up->open()) ++stats_.websockets_refused;
  c.owner_gone = true;
  lws_callback_on_writable(c.wsi);
}

int SessionForwarder::on_ws_writeable(lws* wsi, ConnectionState* pss) {
  CarriedSocket* c = pss->carried;
  if (!c) {
    return close_with_frame(wsi, LWS_CLOSE_STATUS_NORMAL);
  }
  while (!c->to_client.empty() && !lws_partial_buffered(wsi)) {
    auto& [buf, binary] = c->to_client.front();
    std::size_t n = buf.size() - LWS_PRE;
    auto* start = reinterpret_cast<unsigned char*>(buf.data()) + LWS_PRE;
    if (lws_write(wsi, start, n, binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < static_cast<int>(n))
      return -1;
    c->queued -= n;
    c->to_client.pop_front();
  }
  if (!c->to_client.empty() || lws_partial_buffered(wsi)) {
    lws_callback_on_writable(wsi);
  } else if (c->owner_gone) {
    return close_with_frame(wsi, LWS_CLOSE_STATUS_NORMAL);
  }
  return 0;
}

void SessionForwarder::on_ws_closed(ConnectionState* pss) {
  if (CarriedSocket* c = pss->carried) {
    pss->carried = nullptr;
    carried_.erase(c->id);
  }
}

}  // namespace daheim::transport
