#include "cluster/streams_adapter.hpp"

#include <optional>

#include "cluster/cluster_json.hpp"
#include "cluster/msgpack_read.hpp"
#include "cluster/packet_text.hpp"
#include "cluster/stream_broadcast.hpp"
#include "socketio/namespace.hpp"

namespace daheim::cluster {
namespace {

constexpr int kBroadcastType = 3;
constexpr int kSocketsJoin = 4;
constexpr int kSocketsLeave = 5;
constexpr int kDisconnectSockets = 6;

std::string rooms_data(const socketio::BroadcastOptions& opts,
                       std::span<const std::string_view> rooms) {
  std::vector<std::string> r(rooms.begin(), rooms.end());
  std::string out = "{\"opts\":" + options_json(opts) + ",\"rooms\":";
  append_strings(out, r);
  return out + "}";
}

}  // namespace

StreamsAdapter::StreamsAdapter(socketio::Namespace& nsp, ClusterNode& node, StreamLog& log)
    : ShardedAdapter(nsp, node, RedisClient::Kind::Channel, node.random_hex(16)),
      log_(log),
      stream_(log.stream_of(nsp.name())) {
  log_.listen(nsp.name(), this);
}

StreamsAdapter::~StreamsAdapter() {
  log_.unlisten(nsp().name());
}

// The reference's subscribers decode every pub/sub payload as msgpack.
void StreamsAdapter::publish(std::string_view channel, std::string_view message,
                             BroadcastConfirmation::Answer answer) {
  if (message.empty() || message[0] != '{')
    return node().redis().publish(channel, message, false, std::move(answer));
  msgpack::sbuffer buf;
  Packer pk(buf);
  if (!pack_json(pk, message)) {
    if (answer) answer(false);
    return;
  }
  node().redis().publish(channel, std::string_view(buf.data(), buf.size()), false,
                         std::move(answer));
}

std::vector<std::string> StreamsAdapter::entry_fields(int type, std::string_view data) const {
  std::vector<std::string> f = {"uid", uid(), "nsp", nsp().name(), "type", std::to_string(type)};
  if (!data.empty()) {
    f.emplace_back("data");
    f.emplace_back(data);
  }
  return f;
}

void StreamsAdapter::add(int type, std::string data) {
  std::vector<std::string> fields = entry_fields(type, data);
  std::vector<std::string_view> views(fields.begin(), fields.end());
  log_.add(stream_, views, nullptr);
}

void StreamsAdapter::broadcast(const socketio::EncodedPacket& packet,
                               const socketio::BroadcastOptions& opts) {
  if (opts.flags.local || !log_.reading()) {
    confirmation().settled(opts.flags.local ? Logged::Yes : Logged::Refused);
    return InMemoryAdapter::broadcast(packet, opts);
  }
  std::vector<std::string_view> att;
  for (const auto& a : packet.attachments) att.push_back(a->body());
  std::string data = "{\"packet\":{\"type\":2,\"data\":";
  data.append(packet_json(packet));
  data += "},\"opts\":" + options_json(opts) + "}";
  std::vector<std::string> fields = entry_fields(kBroadcastType, encode_stream_data(data, att));
  std::vector<std::string_view> views(fields.begin(), fields.end());
  ++node().stats().broadcasts_published;
  // Delivered when read back; here at once when Redis refuses it, unless a
  // caller waits for the answer (it reports the failure instead).
  std::weak_ptr<bool> alive = alive_token();
  BroadcastConfirmation::Answer answer = confirmation().sent([this, alive, packet, opts] {
    if (!alive.expired()) InMemoryAdapter::broadcast(packet, opts);
  });
  log_.add(stream_, views, [answer](std::string_view id) { answer(!id.empty()); });
}

void StreamsAdapter::add_sockets(const socketio::BroadcastOptions& opts,
                                 std::span<const std::string_view> rooms) {
  if (!opts.flags.local) add(kSocketsJoin, rooms_data(opts, rooms));
  InMemoryAdapter::add_sockets(opts, rooms);
}

void StreamsAdapter::del_sockets(const socketio::BroadcastOptions& opts,
                                 std::span<const std::string_view> rooms) {
  if (!opts.flags.local) add(kSocketsLeave, rooms_data(opts, rooms));
  InMemoryAdapter::del_sockets(opts, rooms);
}

void StreamsAdapter::disconnect_sockets(const socketio::BroadcastOptions& opts,
                                        bool close_transport) {
  if (!opts.flags.local)
    add(kDisconnectSockets, "{\"opts\":" + options_json(opts) +
                                ",\"close\":" + (close_transport ? "true" : "false") + "}");
  InMemoryAdapter::disconnect_sockets(opts, close_transport);
}

// Broadcasts from everyone (this node included) are delivered here, with
// the entry id as offset when recovery is on; other types as the pub/sub
// messages are (the streams emitter writes SERVER_SIDE_EMIT here too).
void StreamsAdapter::on_stream_entry(const StreamEntry& e) {
  ++node().stats().messages_received;
  if (e.type == kBroadcastType) {
    StreamBroadcast b;
    if (!decode_stream_broadcast(e, b) || b.has_request) {
      ++node().stats().messages_dropped;
      return;
    }
    if (e.uid != uid()) ++node().stats().messages_applied;
    bool offset = nsp().session_store() != nullptr && takes_offset(b);
    InMemoryAdapter::broadcast(stream_packet(nsp().name(), b, offset ? e.id : ""), b.opts);
    return;
  }
  bool ok = false;
  try {
    msgpack::sbuffer data;
    if (!e.data.empty() && !decode_stream_data(e.data, data)) throw msgpack::parse_error("data");
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_map(e.data.empty() ? 3 : 4);
    pack_str(pk, "uid");
    pack_str(pk, e.uid);
    pack_str(pk, "nsp");
    pack_str(pk, e.nsp);
    pack_str(pk, "type");
    pk.pack_int64(e.type);
    if (!e.data.empty()) {
      pack_str(pk, "data");
      buf.write(data.data(), data.size());
    }
    msgpack::object_handle oh = unpack_referencing(std::string_view(buf.data(), buf.size()),
                                                   node().options().max_message_bytes);
    ok = apply(oh.get());
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok) ++node().stats().messages_dropped;
}

}  // namespace daheim::cluster
