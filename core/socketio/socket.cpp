#include "socketio/socket.hpp"

#include <algorithm>
#include <chrono>

#include "socketio/adapter.hpp"
#include "socketio/broadcast_ack.hpp"
#include "socketio/client.hpp"
#include "socketio/event.hpp"
#include "socketio/namespace.hpp"
#include "socketio/packet.hpp"
#include "socketio/protocol_v4.hpp"
#include "socketio/server.hpp"

namespace daheim::socketio {

Socket::Socket(Namespace& nsp, Client& client, std::string_view id, std::string auth)
    : nsp_(nsp), client_(client) {
  if (!auth.empty() && auth != "{}") rare().auth = std::move(auth);
  if (id.size() > id_.size())
    extra().long_id = id;
  else
    std::copy_n(id.data(), id.size(), id_.begin());
}

Socket::~Socket() = default;

static_assert(sizeof(Socket) <= 56, "one per socket: a 64-byte malloc chunk");

Socket::Extra& Socket::extra() {
  if (!extra_) extra_ = std::make_unique<Extra>();
  return *extra_;
}

Socket::Rare& Socket::rare() {
  if (!rare_) rare_ = std::make_unique<Rare>();
  return *rare_;
}

const std::string& Socket::data() const {
  static const std::string kNone;
  return rare_ ? rare_->data : kNone;
}

engineio::Connection& Socket::connection() const {
  return client_.connection();
}

const engineio::Handshake& Socket::handshake() const {
  return connection().handshake();
}

bool Socket::join(std::string_view room) {
  return join(std::span<const std::string_view>(&room, 1));
}

bool Socket::join(std::span<const std::string_view> rooms) {
  if (state() == State::Disconnected) return false;
  const uint64_t& refused = nsp_.server().stats().rooms_refused;
  uint64_t before = refused;
  nsp_.adapter().add_all(id(), rooms);
  nsp_.session_changed(*this);
  return refused == before;
}

void Socket::leave(std::string_view room) {
  if (state() == State::Disconnected) return;
  nsp_.adapter().del(id(), room);
  nsp_.session_changed(*this);
}

std::vector<std::string> Socket::rooms() const {
  return nsp_.adapter().socket_rooms(id());
}

bool Socket::emit(std::string_view event, std::string_view args,
                  std::span<const std::string> attachments) {
  if (!connected() || is_reserved_event(event)) return false;
  nsp_.notify_outgoing(*this, event, args);
  if (recovery()) {  // logged with an offset, like the reference's adapter.broadcast
    BroadcastOptions to;
    to.rooms.emplace_back(id());
    return nsp_.emit_to(to, event, args, attachments);
  }
  return write(encode_event(nsp_.name(), event, args, attachments), false);
}

bool Socket::emit_volatile(std::string_view event, std::string_view args,
                           std::span<const std::string> attachments) {
  if (!connected() || is_reserved_event(event) || !connection().can_send_now()) return false;
  nsp_.notify_outgoing(*this, event, args);
  EncodedPacket packet = encode_event(nsp_.name(), event, args, attachments);
  if (recovery()) packet.volatile_tail = volatile_tail_of(args);
  return write(packet, true);
}

bool Socket::emit_with_ack(std::string_view event, std::string_view args,
                           std::span<const std::string> attachments, loop::Millis timeout,
                           AckCallback callback) {
  if (!connected() || is_reserved_event(event) || !has_ack_room()) return false;
  nsp_.notify_outgoing(*this, event, args);
  uint64_t ack_id = nsp_.next_ack_id();
  if (!write(encode_event(nsp_.name(), event, args, attachments, ack_id), false)) return false;
  loop::TimePoint deadline = connection().timers().now() + timeout;
  rare().acks.push_back({ack_id, deadline, std::move(callback), nullptr});
  arm_ack_timer();
  return true;
}

bool Socket::ack(uint64_t ack_id, std::string_view args, std::span<const std::string> attachments) {
  if (!connected()) return false;
  return write(encode_ack(nsp_.name(), ack_id, args, attachments), false);
}

bool Socket::broadcast(BroadcastOptions opts, std::string_view event, std::string_view args,
                       std::span<const std::string> attachments) {
  opts.except.emplace_back(id());
  return nsp_.emit_to(opts, event, args, attachments);
}

void Socket::disconnect(bool close_transport) {
  if (!connected()) return;
  if (close_transport) {
    client_.disconnect_all();
    return;
  }
  disconnect_because(DisconnectReason::ServerNamespaceDisconnect);
}

void Socket::disconnect_because(DisconnectReason reason) {
  if (!connected()) return;
  write(encode_disconnect(nsp_.name()), false);
  client_.note_server_disconnect(nsp_.name());
  teardown(reason);
}

void Socket::on_disconnect(DisconnectCallback callback) {
  rare().on_disconnect.push_back(std::move(callback));
}

void* Socket::slot(uint32_t key) const {
  if (!rare_) return nullptr;
  for (const auto& [k, v] : rare_->slots)
    if (k == key) return v;
  return nullptr;
}

void Socket::set_slot(uint32_t key, void* value) {
  if (value == nullptr && !rare_) return;
  auto& slots = rare().slots;
  auto it = std::find_if(slots.begin(), slots.end(), [&](const auto& s) { return s.first == key; });
  if (value == nullptr) {
    if (it != slots.end()) slots.erase(it);
  } else if (it != slots.end()) {
    it->second = value;
  } else {
    slots.emplace_back(key, value);
  }
}

bool Socket::write(const EncodedPacket& packet, bool volatile_) {
  if (!connected()) return false;
  engineio::Connection& c = connection();
  if (volatile_ && !c.can_send_now()) {
    ++nsp_.server().stats().volatile_dropped;
    return false;
  }
  if (!c.send(packet.text)) return false;
  for (const engineio::FramePtr& frame : packet.attachments)
    if (!c.send(frame)) return false;
  if (recovery()) note_written(packet, volatile_);
  return true;
}

void Socket::note_written(const EncodedPacket& packet, bool volatile_) {
  Recovery& r = *recovery();
  if (packet.logged) {
    r.volatile_tail = 0;
  } else if (volatile_ && packet.volatile_tail != 0) {
    r.volatile_tail = packet.volatile_tail;
    r.volatile_tail_offset = nsp_.session_store()->head(nsp_.name());
  }
}

bool Socket::write_with_ack(const EncodedPacket& packet, bool volatile_, uint64_t ack_id,
                            const std::shared_ptr<BroadcastAck>& ack) {
  if (!connected() || !has_ack_room() || !write(packet, volatile_)) return false;
  rare().acks.push_back({ack_id, loop::TimePoint::max(), nullptr, ack});
  return true;
}

bool Socket::has_ack_room() {
  std::size_t max = nsp_.server().options().max_pending_acks;
  if (pending_acks() < max) return true;
  std::vector<PendingAck>& acks = rare_->acks;
  std::erase_if(acks, [](const PendingAck& a) { return a.broadcast && a.broadcast->done(); });
  return acks.size() < max;
}

const std::string* Socket::restored_extension(std::string_view name) const {
  const Recovery* r = recovery();
  if (!r || !r->restored) return nullptr;
  for (const auto& [key, value] : r->restored->session.extensions)
    if (key == name) return &value;
  return nullptr;
}

void Socket::start_session(std::string pid, std::string start_offset) {
  Recovery& r = extra().recovery.emplace();
  r.pid = std::move(pid);
  r.start_offset = std::move(start_offset);
}

void Socket::restore_session(RestoredSession restored) {
  SavedSession& saved = restored.session;
  std::copy_n(saved.sid.data(), std::min(saved.sid.size(), id_.size()), id_.begin());
  start_session(saved.pid, saved.start_offset);
  if (!saved.data.empty()) rare().data = saved.data;
  recovery()->recovered = true;
  recovery()->restored = std::move(restored);
}

void Socket::join_restored_rooms() {
  const Recovery* r = recovery();
  if (!r || !r->restored) return;
  const std::vector<std::string>& rooms = r->restored->session.rooms;
  std::vector<std::string_view> views(rooms.begin(), rooms.end());
  join(views);
}

void Socket::end_restore() {
  if (Recovery* r = recovery()) r->restored.reset();
}

// A recovered socket gets the events it missed first, then the CONNECT
// reply (the reference's order; the client holds them until it connects).
void Socket::on_connected() {
  set_state(State::Connected);
  std::string_view own = id();
  nsp_.adapter().add_all(own, std::span<const std::string_view>(&own, 1));
  if (Recovery* r = recovery(); r && r->restored) {
    for (const EncodedPacket& packet : r->restored->missed) client_.send(packet);
    r->restored->missed.clear();
  }
  write(
      client_.legacy() ? v4::encode_connect(nsp_.name()) : encode_connect(nsp_.name(), own, pid()),
      false);
}

void Socket::on_event_packet(Packet& packet, std::string_view args) {
  if (!admit_event(packet)) return;
  Event event{packet.name, args, std::move(packet.attachments), packet.id};
  nsp_.dispatch_event(*this, event);
}

bool Socket::admit_event(const Packet& packet) {
  Server& server = nsp_.server();
  const EventRateLimit& limit = server.options().event_rate;
  if (limit.rate == 0) return true;
  EventRate::Verdict verdict = rare().event_rate.take(limit, server.timers().now());
  if (verdict == EventRate::Verdict::Pass) return true;
  ++server.stats().events_rate_limited;
  if (packet.id) ack(*packet.id, R"([{"error":"rate_limited"}])");
  if (verdict == EventRate::Verdict::Disconnect) {
    ++server.stats().rate_limit_disconnects;
    disconnect_because(DisconnectReason::RateLimited);
  }
  return false;
}

void Socket::on_ack_packet(Packet& packet) {
  if (!packet.id || !rare_) return;
  std::vector<PendingAck>& acks = rare_->acks;
  auto it = std::find_if(acks.begin(), acks.end(),
                         [&](const PendingAck& a) { return a.id == *packet.id; });
  if (it == acks.end()) return;
  PendingAck ack = std::move(*it);
  acks.erase(it);
  if (ack.broadcast) {
    ack.broadcast->on_response(packet.data, std::move(packet.attachments));
    return;
  }
  arm_ack_timer();
  if (ack.callback) ack.callback(false, packet.data, packet.attachments);
}

// Only called with a Rare block (acks were queued).
void Socket::arm_ack_timer() {
  Rare& r = *rare_;
  loop::TimePoint earliest = loop::TimePoint::max();
  for (const PendingAck& a : r.acks)
    if (!a.broadcast) earliest = std::min(earliest, a.deadline);
  if (earliest == loop::TimePoint::max()) {
    if (r.ack_timer) r.ack_timer->disarm();
    return;
  }
  loop::TimerQueue& timers = connection().timers();
  if (!r.ack_timer) r.ack_timer = std::make_unique<loop::Timer>(timers, [this] { on_ack_timer(); });
  loop::TimePoint now = timers.now();
  r.ack_timer->arm(earliest <= now ? loop::Millis(0)
                                   : std::chrono::ceil<loop::Millis>(earliest - now));
}

void Socket::on_ack_timer() {
  loop::TimePoint now = connection().timers().now();
  std::vector<AckCallback> expired;
  std::vector<PendingAck>& acks = rare_->acks;
  for (std::size_t i = 0; i < acks.size();) {
    if (acks[i].broadcast || acks[i].deadline > now) {
      ++i;
      continue;
    }
    expired.push_back(std::move(acks[i].callback));
    acks[i] = std::move(acks.back());
    acks.pop_back();
  }
  arm_ack_timer();
  std::vector<std::string> none;
  for (AckCallback& callback : expired)
    if (callback) callback(true, {}, none);
}

void Socket::fail_pending_acks() {
  if (!rare_) return;
  std::vector<PendingAck> acks = std::move(rare_->acks);
  rare_->acks.clear();
  if (rare_->ack_timer) rare_->ack_timer->disarm();
  std::vector<std::string> none;
  for (PendingAck& a : acks) {
    if (a.broadcast || !a.callback) continue;
    none.clear();
    a.callback(true, {}, none);
  }
}

void Socket::teardown(DisconnectReason reason) {
  if (state() == State::Disconnected) return;
  bool was_connected = connected();
  if (was_connected && recovery() && is_recoverable(reason))
    nsp_.persist(*this);
  else if (was_connected && recovery())
    nsp_.forget_session(*this);
  nsp_.remove(*this);
  set_state(State::Disconnected);
  client_.detach(*this);
  if (was_connected) nsp_.notify_disconnect(*this, reason);
  std::vector<DisconnectCallback> callbacks;
  if (rare_) callbacks = std::move(rare_->on_disconnect);
  for (DisconnectCallback& callback : callbacks) callback(*this, reason);
  fail_pending_acks();
}

}  // namespace daheim::socketio
