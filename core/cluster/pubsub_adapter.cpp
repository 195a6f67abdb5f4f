#include "cluster/pubsub_adapter.hpp"

#include <algorithm>

#include "cluster/cluster_node.hpp"
#include "cluster/msgpack_read.hpp"
#include "cluster/packet_text.hpp"
#include "log/log.hpp"
#include "socketio/json_text.hpp"
#include "socketio/namespace.hpp"

namespace daheim::cluster {
namespace {

using Kind = RedisClient::Kind;

template <class Strings>
void pack_strings(Packer& pk, const Strings& list) {
  pk.pack_array(static_cast<uint32_t>(list.size()));
  for (const auto& s : list) pack_str(pk, s);
}

// The except list without repeats, first occurrence kept ([...new Set()]).
std::vector<std::string_view> unique(const std::vector<std::string>& list) {
  std::vector<std::string_view> out;
  for (const std::string& s : list)
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  return out;
}

}  // namespace

PubSubAdapter::PubSubAdapter(socketio::Namespace& nsp, ClusterNode& node)
    : InMemoryAdapter(nsp), node_(node), uid_(node.random_id(6)) {
  const std::string& key = node.options().key;
  channel_ = key + "#" + nsp.name() + "#";
  request_channel_ = key + "-request#" + nsp.name() + "#";
  response_channel_ = key + "-response#" + nsp.name() + "#";
  specific_response_channel_ = response_channel_ + uid_ + "#";
  pattern_ = channel_ + "*";
  node_.route(Kind::Pattern, pattern_, this);
  node_.route(Kind::Channel, request_channel_, this);
  node_.route(Kind::Channel, response_channel_, this);
  node_.route(Kind::Channel, specific_response_channel_, this);
}

PubSubAdapter::~PubSubAdapter() {
  node_.unroute(Kind::Pattern, pattern_);
  node_.unroute(Kind::Channel, request_channel_);
  node_.unroute(Kind::Channel, response_channel_);
  node_.unroute(Kind::Channel, specific_response_channel_);
}

std::string PubSubAdapter::encode_broadcast(const socketio::EncodedPacket& packet,
                                            const socketio::BroadcastOptions& opts) const {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_array(3);
  pack_str(pk, uid_);
  if (!pack_packet(pk, packet)) return {};
  pack_options(pk, opts);
  return std::string(buf.data(), buf.size());
}

bool PubSubAdapter::pack_packet(Packer& pk, const socketio::EncodedPacket& packet) const {
  std::vector<std::string_view> attachments;
  attachments.reserve(packet.attachments.size());
  for (const auto& a : packet.attachments) attachments.push_back(a->body());
  pk.pack_map(3);
  pack_str(pk, "type");
  pk.pack_uint8(2);  // EVENT, also with binary arguments
  pack_str(pk, "data");
  if (!pack_json(pk, packet_json(packet), attachments)) return false;
  pack_str(pk, "nsp");
  pack_str(pk, nsp().name());
  return true;
}

void PubSubAdapter::pack_options(Packer& pk, const socketio::BroadcastOptions& opts,
                                 int64_t timeout_ms) const {
  pk.pack_map(3);
  pack_str(pk, "rooms");
  pack_strings(pk, opts.rooms);
  pack_str(pk, "except");
  pack_strings(pk, unique(opts.except));
  pack_str(pk, "flags");
  pk.pack_map((opts.flags.volatile_ ? 1 : 0) + (timeout_ms >= 0 ? 1 : 0));
  if (opts.flags.volatile_) {
    pack_str(pk, "volatile");
    pk.pack_true();
  }
  if (timeout_ms >= 0) {
    pack_str(pk, "timeout");
    pk.pack_int64(timeout_ms);
  }
}

void PubSubAdapter::broadcast(const socketio::EncodedPacket& packet,
                              const socketio::BroadcastOptions& opts) {
  if (!opts.flags.local) {
    std::string msg = encode_broadcast(packet, opts);
    if (!msg.empty()) {
      std::string channel = channel_;
      if (opts.rooms.size() == 1) channel += opts.rooms[0] + "#";
      node_.redis().publish(channel, msg, false, confirmation_.sent());
      ++node_.stats().broadcasts_published;
    } else {
      confirmation_.settled(Logged::Refused);
      log::warning("cluster: a broadcast's payload is not valid JSON; sent to this node only");
    }
  } else {
    confirmation_.settled(Logged::Yes);
  }
  InMemoryAdapter::broadcast(packet, opts);
}

bool PubSubAdapter::can_log() const {
  return node_.redis().can_publish();
}

void PubSubAdapter::when_logged(std::function<void(Logged)> done) {
  confirmation_.when(node_.timers(), node_.options().requests_timeout, std::move(done));
}

void PubSubAdapter::publish_request(std::string_view json) {
  node_.redis().publish(request_channel_, json);
}

// REMOTE_JOIN (2) / REMOTE_LEAVE (3): {"uid","type",opts,"rooms":[...]}.
void PubSubAdapter::publish_rooms_request(int type, const socketio::BroadcastOptions& opts,
                                          std::span<const std::string_view> rooms) {
  std::string req = "{\"uid\":";
  socketio::json::append_string(req, uid_);
  req += ",\"type\":" + std::to_string(type) + ",";
  append_rooms_json(req, opts);
  req += ",\"rooms\":[";
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    if (i) req += ',';
    socketio::json::append_string(req, rooms[i]);
  }
  req += "]}";
  publish_request(req);
}

// The node applies join/leave/disconnect at once (also while Redis is down)
// and ignores its own request when it comes back.
void PubSubAdapter::add_sockets(const socketio::BroadcastOptions& opts,
                                std::span<const std::string_view> rooms) {
  if (!opts.flags.local) publish_rooms_request(2, opts, rooms);
  InMemoryAdapter::add_sockets(opts, rooms);
}

void PubSubAdapter::del_sockets(const socketio::BroadcastOptions& opts,
                                std::span<const std::string_view> rooms) {
  if (!opts.flags.local) publish_rooms_request(3, opts, rooms);
  InMemoryAdapter::del_sockets(opts, rooms);
}

void PubSubAdapter::disconnect_sockets(const socketio::BroadcastOptions& opts,
                                       bool close_transport) {
  if (!opts.flags.local) {
    std::string req = "{\"uid\":";
    socketio::json::append_string(req, uid_);
    req += ",\"type\":4,";
    append_rooms_json(req, opts);
    req += close_transport ? ",\"close\":true}" : ",\"close\":false}";
    publish_request(req);
  }
  InMemoryAdapter::disconnect_sockets(opts, close_transport);
}

void PubSubAdapter::on_cluster_message(RedisClient::Kind kind, std::string_view channel,
                                       std::string_view payload) {
  if (kind == RedisClient::Kind::Channel) return on_request_message(channel, payload);
  // The pattern key#nsp#* also matches longer names (key#nsp#a#b): only
  // key#nsp# and key#nsp#<room># are broadcasts.
  if (!channel.starts_with(channel_) ||
      (channel.size() > channel_.size() && channel.back() != '#')) {
    ++node_.stats().messages_dropped;
    return;
  }
  on_broadcast_message(channel, payload);
}

void PubSubAdapter::on_broadcast_message(std::string_view channel, std::string_view payload) {
  std::string_view room = channel.substr(channel_.size());
  if (!room.empty()) room.remove_suffix(1);  // the trailing '#'
  // A room channel for a room without members here: not even decoded.
  if (!room.empty() && !has_room(room)) return;
  bool ok = false;
  try {
    msgpack::object_handle oh = unpack_referencing(payload, node_.options().max_message_bytes);
    ok = apply_broadcast(oh.get());
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok) ++node_.stats().messages_dropped;
}

// [uid, packet, opts]. true: well-formed (applied or rightly ignored).
bool PubSubAdapter::apply_broadcast(const msgpack::object& m) {
  if (m.type != msgpack::type::ARRAY || m.via.array.size != 3) return false;
  std::string_view uid;
  if (!as_string(&m.via.array.ptr[0], uid)) return false;
  if (uid == uid_) return true;  // our own
  const msgpack::object& packet = m.via.array.ptr[1];
  std::string_view nsp = "/";
  if (const msgpack::object* n = member(packet, "nsp"); n != nullptr && !as_string(n, nsp))
    return false;
  if (nsp != this->nsp().name()) return true;
  int64_t type = 0;
  if (!as_int(member(packet, "type"), type) || (type != 2 && type != 5)) return false;
  const msgpack::object* data = member(packet, "data");
  if (data == nullptr || data->type != msgpack::type::ARRAY || data->via.array.size == 0 ||
      data->via.array.ptr[0].type != msgpack::type::STR)
    return false;
  socketio::BroadcastOptions opts;
  if (!broadcast_options(&m.via.array.ptr[2], opts)) return false;
  std::string json;
  std::vector<std::string> attachments;
  if (!append_json(json, *data, attachments)) return false;
  ++node_.stats().messages_applied;
  InMemoryAdapter::broadcast(socketio::encode(socketio::PacketType::Event, this->nsp().name(),
                                              std::nullopt, json, attachments),
                             opts);
  return true;
}

}  // namespace daheim::cluster
