// The endpoint's side of the server-wide handshake budget: a new session
// over it is parked (a polling GET unanswered, a WebSocket without its open
// packet) until the budget admits it or its wait runs out, then answered
// from WRITEABLE. Refused: 503 with the Engine.IO error shape and
// Retry-After; a WebSocket that waited in vain is closed (1013).
#include <algorithm>
#include <cstring>

#include "log/log.hpp"
#include "transport/engineio_endpoint.hpp"

namespace daheim::transport {

using engineio::TransportKind;
using Verdict = HandshakeBudget::Verdict;

namespace {

// Writes the close frame itself (RFC 6455 §5.5.1: FIN + opcode 8, the
// length, the code, the reason; unmasked from a server), raw from
// WRITEABLE, then lws closes the socket. lws_close_reason() and returning
// -1 does not send it on libuv: lws 4.1 as Debian builds it (_DEBUG) closes
// the wsi a second time after a callback asked for the close
// ("close_and_handled uv repeat test" in lws_service_fd_tsi), and that
// second close kills the connection that the first had scheduled the close
// frame for (the client saw 1006). lws has no public LWS_WRITE_CLOSE.
int close_with_frame(lws* wsi, uint16_t code, std::string_view reason) {
  unsigned char buf[LWS_PRE + 2 + 125];
  std::size_t n = std::min<std::size_t>(reason.size(), 123);
  unsigned char* frame = buf + LWS_PRE;
  frame[0] = 0x88;
  frame[1] = static_cast<unsigned char>(2 + n);
  frame[2] = static_cast<unsigned char>(code >> 8);
  frame[3] = static_cast<unsigned char>(code & 0xff);
  std::memcpy(frame + 4, reason.data(), n);
  lws_write(wsi, frame, 4 + n, LWS_WRITE_RAW);
  return -1;
}

}  // namespace

std::optional<Verdict> EngineIoEndpoint::admit(lws* wsi, ConnectionState* pss, Role held_role,
                                               engineio::Handshake& hs, std::string& key) {
  if (shutting_down_) return Verdict::Refuse;
  uint64_t id = next_handshake_++;
  Verdict v = handshake_budget_.request(id, timers_.now());
  if (v != Verdict::Wait) return v;
  held_.emplace(id, HeldHandshake{wsi, std::move(hs), std::move(key)});
  pss->role = held_role;
  pss->held_handshake = id;
  if (held_role == Role::HandshakeHeld) {
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    lws_rx_flow_control(wsi, 0);
  }
  schedule_release();
  return std::nullopt;
}

int EngineIoEndpoint::refuse_busy(lws* wsi, std::vector<engineio::Header> headers) {
  headers.emplace_back("retry-after", std::to_string(handshake_budget_.retry_after_seconds()));
  log::debug("engine.io handshake refused: over engineio.handshakesPerSecond");
  return send_response(wsi, 503, "application/json",
                       R"({"code":4,"message":"Server busy: too many handshakes, retry later"})",
                       headers);
}

int EngineIoEndpoint::refuse_stopping(lws* wsi, std::vector<engineio::Header> headers) {
  headers.emplace_back("retry-after", "1");
  return send_response(wsi, 503, "application/json",
                       R"({"code":4,"message":"Server shutting down"})", headers);
}

void EngineIoEndpoint::schedule_release() {
  if (release_timer_.armed()) return;
  if (auto delay = handshake_budget_.next_release(timers_.now())) release_timer_.arm(*delay);
}

// Wakes each admitted or expired connection; it is answered from WRITEABLE.
void EngineIoEndpoint::release_handshakes() {
  HandshakeBudget::Released out = handshake_budget_.release(timers_.now());
  auto wake = [this](uint64_t id, HeldHandshake::State state) {
    auto it = held_.find(id);
    if (it == held_.end()) return;
    it->second.state = state;
    lws_rx_flow_control(it->second.wsi, 1);
    lws_callback_on_writable(it->second.wsi);
  };
  for (uint64_t id : out.admitted) wake(id, HeldHandshake::State::Admitted);
  for (uint64_t id : out.expired) wake(id, HeldHandshake::State::Expired);
  schedule_release();
}

int EngineIoEndpoint::finish_held_poll(lws* wsi, ConnectionState* pss) {
  auto it = held_.find(pss->held_handshake);
  if (it == held_.end() || it->second.state == HeldHandshake::State::Waiting) return 0;
  HeldHandshake held = std::move(it->second);
  held_.erase(it);
  pss->role = Role::None;
  if (shutting_down_) return refuse_stopping(wsi, response_headers(wsi));
  if (held.state == HeldHandshake::State::Expired) return refuse_busy(wsi, response_headers(wsi));
  return open_polling(wsi, std::move(held.hs), std::move(held.key));
}

int EngineIoEndpoint::finish_held_ws(lws* wsi, ConnectionState* pss) {
  auto it = held_.find(pss->held_handshake);
  if (it == held_.end() || it->second.state == HeldHandshake::State::Waiting) return 0;
  HeldHandshake held = std::move(it->second);
  held_.erase(it);
  pss->role = Role::None;
  if (shutting_down_)
    return close_with_frame(wsi, LWS_CLOSE_STATUS_GOINGAWAY, "Server shutting down");
  if (held.state == HeldHandshake::State::Expired)
    return close_with_frame(wsi, kTryAgainLater, "Server busy: too many handshakes, retry later");
  return open_ws(wsi, pss, std::move(held.hs), std::move(held.key));
}

// The client went away while waiting.
void EngineIoEndpoint::drop_held(ConnectionState* pss) {
  if (pss->role != Role::HandshakeHeld && pss->role != Role::WsHeld) return;
  handshake_budget_.cancel(pss->held_handshake);
  held_.erase(pss->held_handshake);
  pss->role = Role::None;
}

}  // namespace daheim::transport
