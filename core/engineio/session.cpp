#include "engineio/session.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "engineio/codec.hpp"
#include "engineio/codec_v3.hpp"

namespace daheim::engineio {
namespace {

const FramePtr& ping_frame() {
  static const FramePtr f = make_text_frame(PacketType::Ping, {});
  return f;
}

const FramePtr& close_frame() {
  static const FramePtr f = make_text_frame(PacketType::Close, {});
  return f;
}

const FramePtr& probe_reply_frame() {
  static const FramePtr f = make_text_frame(PacketType::Pong, "probe");
  return f;
}

std::string open_json(std::string_view sid, bool offer_websocket, const Options& o) {
  std::string s = "{\"sid\":\"";
  s += sid;
  s += "\",\"upgrades\":";
  s += offer_websocket ? "[\"websocket\"]" : "[]";
  s += ",\"pingInterval\":" + std::to_string(o.ping_interval.count());
  s += ",\"pingTimeout\":" + std::to_string(o.ping_timeout.count());
  s += ",\"maxPayload\":" + std::to_string(o.max_payload) + "}";
  return s;
}

bool is_graceful(CloseReason reason) {
  return reason == CloseReason::ForcedClose || reason == CloseReason::ServerShuttingDown;
}

}  // namespace

std::string_view to_string(CloseReason reason) {
  switch (reason) {
    case CloseReason::TransportClose:
      return "transport close";
    case CloseReason::TransportError:
      return "transport error";
    case CloseReason::PingTimeout:
      return "ping timeout";
    case CloseReason::ParseError:
      return "parse error";
    case CloseReason::ForcedClose:
      return "forced close";
    case CloseReason::ServerShuttingDown:
      return "server shutting down";
  }
  return "unknown";
}

std::string_view to_string(TransportKind kind) {
  return kind == TransportKind::Polling ? "polling" : "websocket";
}

Session::Session(std::string_view sid, TransportKind kind, Handshake handshake,
                 const Options& options, loop::TimerQueue& timers, SessionObserver& observer)
    : sid_(),
      sid_size_(static_cast<uint8_t>(sid.size())),
      kind_(kind),
      handshake_(std::move(handshake)),
      options_(options),
      observer_(observer),
      heartbeat_timer_(timers, [this] { on_heartbeat_timer(heartbeat_timer_.remaining()); }) {
  if (sid.size() > kIdLength) {  // a defect of the caller, never the client's doing
    std::fputs("<2>fatal: an Engine.IO session id longer than 20 characters\n", stderr);
    std::abort();
  }
  std::copy(sid.begin(), sid.end(), sid_.begin());
  std::optional<std::string_view> eio = handshake_.query_param("EIO");
  v3_ = eio == "3";
  std::optional<std::string_view> b64 = handshake_.query_param("b64");
  v3_binary_ok_ = v3_ && (!b64 || b64->empty() || *b64 == "0" || *b64 == "false");
}

// The upgrade's deadline while a probe is active (only while open), the
// drain's deadline while closing: never both at once.
void Session::on_phase_timer() {
  if (state_ == State::Closing) {
    state_ = State::Closed;
    phase_timer_.release();
    clear_outbox();
  } else {
    on_probe_lost();
  }
  notify();
}

static_assert(sizeof(Session) <= 184, "the SessionEntry around it: one malloc chunk per session");

Session::~Session() {
  if (budget_) budget_->remove(buffered_bytes_);
}

void Session::clear_outbox() {
  outbox_.clear();
  if (budget_) budget_->remove(buffered_bytes_);
  buffered_bytes_ = 0;
}

void Session::drop_slow_consumer() {
  if (state_ == State::Closed) return;
  slow_consumer_ = true;
  close_now(CloseReason::TransportError, PacketType::Close);
}

void Session::start(std::unique_ptr<Handler> handler) {
  handler_ = std::move(handler);
  bool offer_ws = kind_ == TransportKind::Polling && options_.allow_websocket;
  queue(make_text_frame(PacketType::Open, open_json(id(), offer_ws, options_)));
  schedule_ping();
}

// A frame that would take the count past kMaxBufferedBytes is not queued
// (it cannot be counted in 32 bits): an open session closes as a slow
// consumer, a closing one only loses the frame (its drain's deadline runs).
void Session::queue(FramePtr frame) {
  if (frame->size() > kMaxBufferedBytes - buffered_bytes_) {
    if (state_ == State::Open) drop_slow_consumer();
    return;
  }
  buffered_bytes_ += static_cast<uint32_t>(frame->size());
  if (budget_) budget_->add(frame->size());
  outbox_.push_back(std::move(frame));
}

// A frame that would take the queue past max_buffered_bytes closes the
// session as a slow consumer; it is not queued (it would be dropped with the
// queue at once).
bool Session::send(FramePtr frame) {
  if (state_ != State::Open) return false;
  if (v3_ && frame->binary) frame = v3::binary_frame(frame->body());
  if (buffered_bytes_ + frame->size() > options_.max_buffered_bytes) {
    drop_slow_consumer();
    return false;
  }
  queue(std::move(frame));
  if (state_ != State::Open) return false;  // past kMaxBufferedBytes
  notify();
  return true;
}

bool Session::can_send_now() const {
  if (state_ != State::Open || !outbox_.empty()) return false;
  return kind_ == TransportKind::WebSocket || poll_held_;
}

void Session::close(CloseReason reason) {
  if (state_ != State::Open) return;
  if (!is_graceful(reason)) {
    close_now(reason, PacketType::Close);
    return;
  }
  state_ = State::Closing;
  heartbeat_timer_.disarm();
  on_probe_lost();
  if (kind_ == TransportKind::Polling) queue(close_frame());
  // A client that stops reading cannot hold the session open.
  arm_phase(options_.ping_interval + options_.ping_timeout);
  notify_handler_closed(reason);
  notify();
}

// Called as the close begins (the drain): the deadline close() set is
// pingInterval + pingTimeout from now.
void Session::close_within(loop::Millis within) {
  if (state_ == State::Closing)
    arm_phase(std::min(within, options_.ping_interval + options_.ping_timeout));
}

void Session::close_now(CloseReason reason, PacketType poll_answer) {
  if (state_ == State::Closed) return;
  bool was_open = state_ == State::Open;
  state_ = State::Closed;
  heartbeat_timer_.disarm();
  phase_timer_.release();
  on_probe_lost();
  clear_outbox();
  poll_close_answer_ = poll_answer;
  if (was_open) notify_handler_closed(reason);
  notify();
}

void Session::notify_handler_closed(CloseReason reason) {
  if (handler_) handler_->on_close(reason);
}

// v4: the server pings every pingInterval. v3: the client pings, and the
// session dies when no ping came for pingInterval + pingTimeout.
void Session::schedule_ping() {
  awaiting_pong_ = false;
  heartbeat_timer_.arm(v3_ ? options_.ping_interval + options_.ping_timeout
                           : options_.ping_interval);
}

void Session::on_client_ping(std::string_view data) {
  queue(make_text_frame(PacketType::Pong, data));
  schedule_ping();
  notify();
}

// `late`: zero or negative, how long after its deadline the heartbeat runs.
void Session::on_heartbeat_timer(loop::Micros late) {
  if (state_ != State::Open) return;
  // The pong is due pingTimeout after the ping was due, not after the loop
  // got to it: a busy loop must not keep a session that an on-time one had
  // closed (the client itself gives up pingInterval + pingTimeout after the
  // ping before).
  auto window = std::chrono::floor<loop::Millis>(options_.ping_timeout + late);
  if (awaiting_pong_ || v3_ || window <= loop::Millis(0)) {
    close_now(CloseReason::PingTimeout, PacketType::Close);
    return;
  }
  queue(ping_frame());
  awaiting_pong_ = true;
  heartbeat_timer_.arm(window);
  notify();
}

void Session::catch_up_heartbeat() {
  while (state_ == State::Open && heartbeat_timer_.armed()) {
    loop::Micros late = heartbeat_timer_.remaining();
    if (late > loop::Micros(0)) return;
    heartbeat_timer_.disarm();
    on_heartbeat_timer(late);
  }
}

void Session::on_packet(PacketType type, bool binary, std::string_view data) {
  switch (type) {
    case PacketType::Message:
      if (!handler_) return;
      if (binary)
        handler_->on_binary(data);
      else
        handler_->on_message(data);
      return;
    case PacketType::Pong:
      if (awaiting_pong_) schedule_ping();
      return;
    case PacketType::Ping:  // v4: only the server pings
      if (v3_)
        on_client_ping(data);
      else
        close_now(CloseReason::TransportError, PacketType::Close);
      return;
    case PacketType::Close:
      close_now(CloseReason::TransportClose, PacketType::Noop);
      return;
    case PacketType::Open:
    case PacketType::Upgrade:
    case PacketType::Noop:
      return;
  }
}

void Session::on_ws_text(std::string_view text) {
  if (state_ != State::Open) return;
  auto packet = decode_packet(text);
  if (!packet) {
    close_now(CloseReason::ParseError, PacketType::Close);
    return;
  }
  on_packet(packet->type, false, packet->data);
}

void Session::on_ws_binary(std::string_view data) {
  if (state_ != State::Open) return;
  if (v3_ && !v3::ws_binary_data(data, data)) {  // v3: 0x04 + data
    close_now(CloseReason::ParseError, PacketType::Close);
    return;
  }
  on_packet(PacketType::Message, true, data);
}

FramePtr Session::pop_frame() {
  if (outbox_.empty()) return nullptr;
  FramePtr f = outbox_.pop_front();
  buffered_bytes_ -= static_cast<uint32_t>(f->size());
  if (budget_) budget_->remove(f->size());
  return f;
}

void Session::on_transport_lost(bool error) {
  if (state_ == State::Closing) {
    state_ = State::Closed;
    phase_timer_.release();
    clear_outbox();
    notify();
    return;
  }
  close_now(error ? CloseReason::TransportError : CloseReason::TransportClose, PacketType::Close);
}

Session::PollStart Session::begin_poll() {
  if (poll_held_) {
    close_now(CloseReason::TransportError, PacketType::Close);
    return PollStart::Overlap;
  }
  poll_held_ = true;
  return poll_ready() ? PollStart::Answer : PollStart::Hold;
}

bool Session::poll_ready() const {
  if (!poll_held_) return false;
  return !outbox_.empty() || state_ == State::Closed || upgrade_ == Upgrade::Probing ||
         upgrade_ == Upgrade::Done;
}

std::string Session::end_poll() {
  std::string body;
  end_poll(body);
  return body;
}

void Session::end_poll(std::string& out) {
  out.clear();
  poll_held_ = false;
  poll_body_binary_ = false;
  // After the upgrade, queued frames belong to the WebSocket.
  if (upgrade_ == Upgrade::Done) return poll_answer(PacketType::Noop, out);
  if (!outbox_.empty()) {
    poll_payload(out);
    clear_outbox();
    if (state_ == State::Closing) {
      state_ = State::Closed;
      phase_timer_.release();
    }
    return;
  }
  if (state_ == State::Closed) return poll_answer(poll_close_answer_, out);
  poll_answer(PacketType::Noop, out);
}

// A payload of one packet without data: "6", or "1:6" in v3.
void Session::poll_answer(PacketType type, std::string& out) const {
  if (v3_) out += "1:";
  out += static_cast<char>(type);
}

// The queued frames as one payload: v4 items separated by \x1e; v3
// length-prefixed text, or the binary payload when a binary frame is queued
// and the client takes binary.
void Session::poll_payload(std::string& body) {
  if (!v3_) {
    outbox_.for_each([&body](const Frame& f) { append_payload_item(body, f); });
    return;
  }
  bool any_binary = false;
  outbox_.for_each([&any_binary](const Frame& f) { any_binary = any_binary || f.binary; });
  poll_body_binary_ = any_binary && v3_binary_ok_;
  if (poll_body_binary_)
    outbox_.for_each([&body](const Frame& f) { v3::append_binary_item(body, f); });
  else
    outbox_.for_each([&body](const Frame& f) { v3::append_text_item(body, f); });
}

void Session::poll_aborted() {
  poll_held_ = false;
  if (state_ == State::Open) close_now(CloseReason::TransportError, PacketType::Close);
}

bool Session::begin_post() {
  if (post_active_) {
    close_now(CloseReason::TransportError, PacketType::Close);
    return false;
  }
  post_active_ = true;
  return true;
}

bool Session::on_post_body(std::string_view body, bool binary) {
  // Engine.IO 4 bodies decode into one DecodedPayload per thread (no
  // allocation per POST); nothing that runs below posts another body.
  thread_local DecodedPayload v4;
  DecodedPayload v3_payload;
  if (v3_)
    v3_payload = v3::decode_payload(body, binary);
  else
    decode_payload(body, v4);
  const DecodedPayload& payload = v3_ ? v3_payload : v4;
  for (const InPacket& p : payload.packets) {
    if (state_ != State::Open) break;
    on_packet(p.type, p.binary, p.data);
  }
  if (payload.error && state_ == State::Open) {
    close_now(CloseReason::ParseError, PacketType::Close);
    return false;
  }
  return !payload.error;
}

bool Session::begin_upgrade() {
  if (state_ != State::Open || kind_ != TransportKind::Polling || upgrade_ != Upgrade::None ||
      !options_.allow_websocket)
    return false;
  upgrade_ = Upgrade::Attached;
  arm_phase(options_.upgrade_timeout);
  return true;
}

Session::ProbeResult Session::on_probe_text(std::string_view text) {
  if (state_ != State::Open || !probe_active()) return ProbeResult::Refused;
  if (text == "2probe") {
    probe_reply_due_ = true;
    upgrade_ = Upgrade::Probing;
    notify();
    return ProbeResult::Continue;
  }
  if (text == "5") {
    upgrade_ = Upgrade::Done;
    kind_ = TransportKind::WebSocket;
    phase_timer_.release();
    notify();
    return ProbeResult::Upgraded;
  }
  on_probe_lost();
  return ProbeResult::Refused;
}

FramePtr Session::take_probe_frame() {
  if (!probe_reply_due_) return nullptr;
  probe_reply_due_ = false;
  return probe_reply_frame();
}

void Session::on_probe_lost() {
  if (!probe_active()) return;
  upgrade_ = Upgrade::None;
  probe_reply_due_ = false;
  phase_timer_.release();
}

}  // namespace daheim::engineio
