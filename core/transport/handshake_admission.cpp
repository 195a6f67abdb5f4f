// The endpoint's side of the server-wide handshake budget: a new session
// over it is parked (a polling GET unanswered, a WebSocket without its open
// packet) until the budget admits it or its wait runs out, then answered
// from WRITEABLE. Refused: 503 with the Engine.IO error shape and
// Retry-After; a WebSocket that waited in vain is closed (1013).
#include "log/log.hpp"
#include "transport/engineio_endpoint.hpp"
#include "transport/ws_close.hpp"

namespace daheim::transport {

using engineio::TransportKind;
using Verdict = HandshakeBudget::Verdict;

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
    return close_with_frame(wsi, kTryAgainLater, kBusyReason);
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
