#include "cluster/sharded_adapter.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>

#include "cluster/cluster_json.hpp"
#include "cluster/msgpack_read.hpp"
#include "cluster/packet_text.hpp"
#include "socketio/broadcast_ack.hpp"
#include "socketio/encoder.hpp"
#include "socketio/namespace.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace daheim::cluster {
namespace {

// socket.io-adapter ClusterAdapter MessageType.
enum : int64_t {
  kBroadcastMsg = 3,
  kSocketsJoin = 4,
  kSocketsLeave = 5,
  kDisconnectSockets = 6,
  kFetchSockets = 7,
  kFetchSocketsResponse = 8,
  kServerSideEmitMsg = 9,
  kServerSideEmitResponse = 10,
  kClientCount = 11,
  kBroadcastAckMsg = 12,
};

constexpr std::size_t kSocketIdLength = 20;
constexpr std::string_view kSlot = "\"REQUEST_ID\"";

std::string id_of(const msgpack::object& data) {
  std::string_view id;
  return as_string(member(data, "requestId"), id) ? std::string(id) : std::string();
}

}  // namespace

ShardedAdapter::ShardedAdapter(socketio::Namespace& nsp, ClusterNode& node)
    : ShardedAdapter(nsp, node, RedisClient::Kind::Shard, node.random_hex(16)) {}

ShardedAdapter::ShardedAdapter(socketio::Namespace& nsp, ClusterNode& node, RedisClient::Kind kind,
                               std::string uid)
    : InMemoryAdapter(nsp), node_(node), kind_(kind), uid_(std::move(uid)) {
  channel_ = node.options().key + "#" + nsp.name() + "#";
  response_channel_ = channel_ + uid_ + "#";
  node_.route(kind_, channel_, this);
  node_.route(kind_, response_channel_, this);
}

ShardedAdapter::~ShardedAdapter() {
  *alive_ = false;
  for (const std::string& room : all_rooms())
    if (room_channel(room)) node_.unroute(kind_, channel_ + room + "#");
  node_.unroute(kind_, channel_);
  node_.unroute(kind_, response_channel_);
}

bool ShardedAdapter::room_channel(std::string_view room) const {
  return kind_ == RedisClient::Kind::Shard && has_room(room) && nsp().find_socket(room) == nullptr;
}

void ShardedAdapter::on_room_created(const std::string& room) {
  if (kind_ == RedisClient::Kind::Shard && nsp().find_socket(room) == nullptr)
    node_.route(kind_, channel_ + room + "#", this);
}

void ShardedAdapter::on_room_deleted(const std::string& room) {
  if (kind_ == RedisClient::Kind::Shard) node_.unroute(kind_, channel_ + room + "#");
}

std::string ShardedAdapter::envelope(int type, std::string_view data_json) const {
  std::string out = "{\"type\":" + std::to_string(type) + ",\"data\":";
  out.append(data_json);
  out += ",\"uid\":" + json_quoted(uid_) + ",\"nsp\":" + json_quoted(nsp().name()) + "}";
  return out;
}

void ShardedAdapter::publish(std::string_view channel, std::string_view message,
                             BroadcastConfirmation::Answer answer) {
  node_.redis().publish(channel, message, true, std::move(answer));
}

bool ShardedAdapter::can_log() const {
  return node_.redis().can_publish();
}

void ShardedAdapter::when_logged(std::function<void(Logged)> done) {
  confirmation_.when(node_.timers(), node_.options().requests_timeout, std::move(done));
}

void ShardedAdapter::publish_json(int type, std::string_view data_json) {
  publish(channel_, envelope(type, data_json));
}

void ShardedAdapter::respond(std::string_view requester, int type, std::string_view data_json) {
  publish(channel_ + std::string(requester) + "#", envelope(type, data_json));
}

std::string ShardedAdapter::channel_for(const socketio::BroadcastOptions& opts,
                                        bool with_ack) const {
  if (!with_ack && opts.rooms.size() == 1 && opts.rooms[0].size() != kSocketIdLength)
    return channel_ + opts.rooms[0] + "#";
  return channel_;
}

// JSON; with binary arguments the whole message as msgpack (placeholders
// become bin), as the adapter does with notepack.
std::string ShardedAdapter::encode_broadcast(const socketio::EncodedPacket& packet,
                                             const socketio::BroadcastOptions& opts,
                                             std::string_view request_id,
                                             int64_t timeout_ms) const {
  std::string data = "{\"packet\":{\"type\":2,\"data\":";
  data.append(packet_json(packet));
  data += "},";
  if (!request_id.empty()) data += "\"requestId\":" + json_quoted(request_id) + ",";
  data += "\"opts\":" + options_json(opts, request_id.empty() ? -1 : timeout_ms) + "}";
  std::string json = envelope(kBroadcastMsg, data);
  if (packet.attachments.empty()) return json;
  std::vector<std::string_view> att;
  for (const auto& a : packet.attachments) att.push_back(a->body());
  msgpack::sbuffer buf;
  Packer pk(buf);
  if (!pack_json(pk, json, att)) return {};
  return std::string(buf.data(), buf.size());
}

void ShardedAdapter::broadcast(const socketio::EncodedPacket& packet,
                               const socketio::BroadcastOptions& opts) {
  std::string msg = opts.flags.local ? std::string() : encode_broadcast(packet, opts);
  if (!msg.empty()) {
    publish(channel_for(opts, false), msg, confirmation_.sent());
    ++node_.stats().broadcasts_published;
  } else {
    confirmation_.settled(opts.flags.local ? Logged::Yes : Logged::Refused);
  }
  InMemoryAdapter::broadcast(packet, opts);
}

void ShardedAdapter::add_sockets(const socketio::BroadcastOptions& opts,
                                 std::span<const std::string_view> rooms) {
  if (!opts.flags.local) {
    std::vector<std::string> r(rooms.begin(), rooms.end());
    std::string list;
    append_strings(list, r);
    publish_json(kSocketsJoin, "{\"opts\":" + options_json(opts) + ",\"rooms\":" + list + "}");
  }
  InMemoryAdapter::add_sockets(opts, rooms);
}

void ShardedAdapter::del_sockets(const socketio::BroadcastOptions& opts,
                                 std::span<const std::string_view> rooms) {
  if (!opts.flags.local) {
    std::vector<std::string> r(rooms.begin(), rooms.end());
    std::string list;
    append_strings(list, r);
    publish_json(kSocketsLeave, "{\"opts\":" + options_json(opts) + ",\"rooms\":" + list + "}");
  }
  InMemoryAdapter::del_sockets(opts, rooms);
}

void ShardedAdapter::disconnect_sockets(const socketio::BroadcastOptions& opts,
                                        bool close_transport) {
  if (!opts.flags.local)
    publish_json(kDisconnectSockets, "{\"opts\":" + options_json(opts) + ",\"close\":" +
                                         (close_transport ? "true" : "false") + "}");
  InMemoryAdapter::disconnect_sockets(opts, close_transport);
}

void ShardedAdapter::on_cluster_message(RedisClient::Kind, std::string_view,
                                        std::string_view payload) {
  bool ok = false;
  try {
    msgpack::sbuffer buf;
    std::string_view bytes = payload;
    if (!payload.empty() && payload[0] == '{') {
      Packer pk(buf);
      if (!pack_json(pk, payload)) throw msgpack::parse_error("bad JSON");
      bytes = std::string_view(buf.data(), buf.size());
    }
    msgpack::object_handle oh = unpack_referencing(bytes, node_.options().max_message_bytes);
    ok = apply(oh.get());
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok) ++node_.stats().messages_dropped;
}

bool ShardedAdapter::apply(const msgpack::object& m) {
  std::string_view uid, nsp_name;
  int64_t type = 0;
  if (!as_string(member(m, "uid"), uid) || !as_int(member(m, "type"), type)) return false;
  if (uid == uid_) return true;
  if (!as_string(member(m, "nsp"), nsp_name)) return false;
  if (nsp_name != nsp().name()) return true;
  const msgpack::object* data = member(m, "data");
  if (type == 1 || type == 2 || type == 13) return true;  // heartbeats: not used here
  if (data == nullptr || data->type != msgpack::type::MAP) return false;
  if (type >= kFetchSocketsResponse && type != kServerSideEmitMsg)
    return apply_response(type, *data);
  socketio::BroadcastOptions opts;
  switch (type) {
    case kBroadcastMsg:
      return apply_broadcast(*data, uid);
    case kSocketsJoin:
    case kSocketsLeave: {
      std::vector<std::string> rooms;
      if (!broadcast_options(member(*data, "opts"), opts) ||
          !room_list(member(*data, "rooms"), rooms))
        return false;
      std::vector<std::string_view> v(rooms.begin(), rooms.end());
      ++node_.stats().messages_applied;
      if (type == kSocketsJoin)
        InMemoryAdapter::add_sockets(opts, v);
      else
        InMemoryAdapter::del_sockets(opts, v);
      return true;
    }
    case kDisconnectSockets:
      if (!broadcast_options(member(*data, "opts"), opts)) return false;
      ++node_.stats().messages_applied;
      InMemoryAdapter::disconnect_sockets(opts, truthy(member(*data, "close")));
      return true;
    case kFetchSockets: {
      if (!broadcast_options(member(*data, "opts"), opts)) return false;
      ++node_.stats().messages_applied;
      std::string out = "{\"requestId\":" + json_quoted(id_of(*data)) + ",\"sockets\":[";
      bool first = true;
      for (socketio::Socket* s : fetch_sockets(opts)) {
        socketio::RemoteSocket r = socketio::describe_socket(*s);
        if (!first) out += ',';
        first = false;
        out +=
            "{\"id\":" + json_quoted(r.id) + ",\"handshake\":" + r.handshake_json + ",\"rooms\":";
        append_strings(out, r.rooms);
        out += ",\"data\":" + r.data_json + "}";
      }
      respond(uid, kFetchSocketsResponse, out + "]}");
      return true;
    }
    case kServerSideEmitMsg: {
      const msgpack::object* packet = member(*data, "packet");
      if (packet == nullptr || packet->type != msgpack::type::ARRAY ||
          packet->via.array.size == 0 || packet->via.array.ptr[0].type != msgpack::type::STR)
        return false;
      std::string event(packet->via.array.ptr[0].via.str.ptr,
                        packet->via.array.ptr[0].via.str.size);
      std::string args = "[";
      std::vector<std::string> att;
      for (uint32_t i = 1; i < packet->via.array.size; ++i) {
        if (i > 1) args += ',';
        if (!append_json(args, packet->via.array.ptr[i], att)) return false;
      }
      args += ']';
      ++node_.stats().messages_applied;
      socketio::Namespace::ServerSideAck ack;
      if (member(*data, "requestId") != nullptr) {
        auto called = std::make_shared<bool>(false);
        std::weak_ptr<bool> alive = alive_;
        std::string requester(uid), id = id_of(*data);
        ack = [this, alive, called, requester, id](std::string_view answer) {
          if (*called || alive.expired()) return;
          *called = true;
          respond(requester, kServerSideEmitResponse,
                  "{\"requestId\":" + json_quoted(id) +
                      ",\"packet\":" + std::string(answer.empty() ? "null" : answer) + "}");
        };
      }
      nsp().dispatch_server_side_emit(event, args, std::move(ack));
      return true;
    }
    default:
      return true;
  }
}

bool ShardedAdapter::apply_broadcast(const msgpack::object& data, std::string_view requester) {
  const msgpack::object* packet = member(data, "packet");
  const msgpack::object* args = packet ? member(*packet, "data") : nullptr;
  if (args == nullptr || args->type != msgpack::type::ARRAY || args->via.array.size == 0 ||
      args->via.array.ptr[0].type != msgpack::type::STR)
    return false;
  socketio::BroadcastOptions opts;
  if (!broadcast_options(member(data, "opts"), opts)) return false;
  std::string json;
  std::vector<std::string> attachments;
  if (!append_json(json, *args, attachments)) return false;
  ++node_.stats().messages_applied;
  if (member(data, "requestId") == nullptr) {
    InMemoryAdapter::broadcast(socketio::encode(socketio::PacketType::Event, nsp().name(),
                                                std::nullopt, json, attachments),
                               opts);
    return true;
  }
  std::string id = id_of(data), who(requester);
  int64_t timeout_ms = 5000;
  if (const msgpack::object* flags = member(*member(data, "opts"), "flags"))
    as_int(member(*flags, "timeout"), timeout_ms);
  timeout_ms = std::clamp<int64_t>(timeout_ms, 0, 24 * 3600 * 1000);
  uint64_t ack_id = nsp().next_ack_id();
  auto ack = std::make_shared<socketio::BroadcastAck>(
      nullptr, nsp().server().timers().now() + loop::Millis(timeout_ms));
  std::weak_ptr<bool> alive = alive_;
  ack->set_response_hook(
      [this, alive, id, who](std::string_view a, const std::vector<std::string>& att) {
        if (alive.expired()) return;
        // The first answer argument: JSON, or msgpack when it carries binary.
        socketio::json::Shape shape;
        if (socketio::json::scan(a, shape) != socketio::json::ScanError::None) return;
        std::string first =
            shape.first == socketio::json::Kind::None
                ? "null"
                : std::string(a.substr(shape.first_begin, shape.first_end - shape.first_begin));
        std::string msg = envelope(
            kBroadcastAckMsg, "{\"requestId\":" + json_quoted(id) + ",\"packet\":" + first + "}");
        if (!att.empty()) {
          std::vector<std::string_view> views(att.begin(), att.end());
          msgpack::sbuffer buf;
          Packer pk(buf);
          if (!pack_json(pk, msg, views)) return;
          msg.assign(buf.data(), buf.size());
        }
        publish(channel_ + who + "#", msg);
      });
  nsp().track_broadcast_ack(ack);
  auto encoded =
      socketio::encode(socketio::PacketType::Event, nsp().name(), ack_id, json, attachments);
  InMemoryAdapter::broadcast_with_ack(encoded, ack_id, opts, ack);
  respond(who, kClientCount,
          "{\"requestId\":" + json_quoted(id) +
              ",\"clientCount\":" + std::to_string(ack->expected_clients()) + "}");
  ack->set_server_count(1);
  return true;
}

bool ShardedAdapter::apply_response(int type, const msgpack::object& data) {
  std::string id = id_of(data);
  if (auto it = ack_requests_.find(id); it != ack_requests_.end()) {
    auto ack = it->second.lock();
    if (!ack || ack->done()) {
      ack_requests_.erase(it);
      return true;
    }
    if (type == kClientCount) {
      int64_t n = 0;
      if (!as_int(member(data, "clientCount"), n) || n < 0) return false;
      ack->add_client_count(static_cast<std::size_t>(n));
    } else if (type == kBroadcastAckMsg) {
      std::string args = "[";
      std::vector<std::string> att;
      if (const msgpack::object* p = member(data, "packet"); p && !append_json(args, *p, att))
        return false;
      ack->on_response(args + "]", std::move(att));
    }
    return true;
  }
  auto it = pending_.find(id);
  if (it == pending_.end()) return true;
  ++it->second.got;
  it->second.on_answer(data);
  if (it->second.got >= it->second.expected) finish(id, true);
  return true;
}

void ShardedAdapter::finish(const std::string& request_id, bool complete) {
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (!complete) ++node_.stats().request_timeouts;
  p.done(complete);
}

void ShardedAdapter::count_servers(std::function<void(std::size_t)> callback) {
  std::string_view args[] = {"PUBSUB", kind_ == RedisClient::Kind::Shard ? "SHARDNUMSUB" : "NUMSUB",
                             channel_};
  auto cb = std::make_shared<std::function<void(std::size_t)>>(std::move(callback));
  bool sent = node_.redis().command(args, [cb](const redisReply* r) {
    std::size_t n = 0;
    if (r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer > 0)
      n = static_cast<std::size_t>(r->element[1]->integer);
    (*cb)(n);
  });
  if (!sent) (*cb)(0);
}

void ShardedAdapter::ask(int type, std::string data_json, Pending pending) {
  std::weak_ptr<bool> alive = alive_;
  auto shared = std::make_shared<Pending>(std::move(pending));
  count_servers([this, alive, shared, type, data_json = std::move(data_json)](std::size_t n) {
    if (alive.expired()) return;
    if (n == 0) return shared->done(false);
    if (n <= 1) return shared->done(true);
    std::string id = node_.random_hex(16);
    std::string json = data_json;
    json.replace(json.find(kSlot), kSlot.size(), json_quoted(id));
    Pending p = std::move(*shared);
    p.expected = n - 1;
    p.timer = std::make_unique<loop::Timer>(node_.timers(), [this, id] { finish(id, false); });
    p.timer->arm(node_.options().requests_timeout);
    pending_.emplace(id, std::move(p));
    publish_json(type, json);
  });
}

void ShardedAdapter::fetch_sockets_async(const socketio::BroadcastOptions& opts,
                                         socketio::FetchSocketsCallback callback) {
  auto sockets = std::make_shared<std::vector<socketio::RemoteSocket>>();
  for (socketio::Socket* s : fetch_sockets(opts)) sockets->push_back(socketio::describe_socket(*s));
  if (opts.flags.local) return callback(std::move(*sockets), true);
  Pending p;
  p.on_answer = [sockets](const msgpack::object& data) { read_remote_sockets(data, *sockets); };
  p.done = [sockets, callback = std::move(callback)](bool complete) {
    callback(std::move(*sockets), complete);
  };
  ask(kFetchSockets, "{\"opts\":" + options_json(opts) + ",\"requestId\":\"REQUEST_ID\"}",
      std::move(p));
}

void ShardedAdapter::server_side_emit(std::string_view event, std::string_view args,
                                      socketio::ServerSideEmitCallback callback) {
  std::string packet = "[" + json_quoted(event);
  socketio::append_args_after_name(packet, args);
  if (!callback) return publish_json(kServerSideEmitMsg, "{\"packet\":" + packet + "}");
  auto answers = std::make_shared<std::vector<std::string>>();
  Pending p;
  p.on_answer = [answers](const msgpack::object& data) {
    std::string json;
    std::vector<std::string> att;
    const msgpack::object* v = member(data, "packet");
    if (v == nullptr)
      json = "null";
    else if (!append_json(json, *v, att))
      return;
    answers->push_back(std::move(json));
  };
  p.done = [answers, callback = std::move(callback)](bool complete) {
    callback(std::move(*answers), complete);
  };
  ask(kServerSideEmitMsg, "{\"packet\":" + packet + ",\"requestId\":\"REQUEST_ID\"}", std::move(p));
}

void ShardedAdapter::broadcast_with_ack(const socketio::EncodedPacket& packet, uint64_t ack_id,
                                        const socketio::BroadcastOptions& opts,
                                        const std::shared_ptr<socketio::BroadcastAck>& ack) {
  InMemoryAdapter::broadcast_with_ack(packet, ack_id, opts, ack);
  if (opts.flags.local) return ack->set_server_count(1);
  std::string id = node_.random_hex(16);
  auto left = std::chrono::ceil<loop::Millis>(ack->deadline() - nsp().server().timers().now());
  std::string msg = encode_broadcast(packet, opts, id, std::max<int64_t>(0, left.count()));
  if (msg.empty()) return ack->set_server_count(1);
  std::erase_if(ack_requests_, [](const auto& kv) {
    auto a = kv.second.lock();
    return !a || a->done();
  });
  ack_requests_.emplace(id, ack);
  publish(channel_, msg);
  std::weak_ptr<socketio::BroadcastAck> weak = ack;
  count_servers([weak](std::size_t n) {
    if (auto a = weak.lock()) a->set_server_count(n == 0 ? 1 : n);
  });
}

}  // namespace daheim::cluster
