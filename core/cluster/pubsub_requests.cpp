// PubSubAdapter: the requests nodes send each other on `key-request#nsp#`
// (socket.io-redis-adapter's RequestType) and their answers on
// `key-response#nsp#[uid#]`, both ways.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>

#include "cluster/cluster_node.hpp"
#include "cluster/msgpack_read.hpp"
#include "cluster/pubsub_adapter.hpp"
#include "socketio/broadcast_ack.hpp"
#include "socketio/encoder.hpp"
#include "socketio/namespace.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace daheim::cluster {
namespace {

constexpr std::string_view kRequestIdSlot = "\"REQUEST_ID\"";

void append_json_strings(std::string& out, const std::vector<std::string>& list) {
  out += '[';
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i) out += ',';
    socketio::json::append_string(out, list[i]);
  }
  out += ']';
}

std::string request_id_of(const msgpack::object& m) {
  std::string_view id;
  if (as_string(member(m, "requestId"), id)) return std::string(id);
  int64_t n = 0;
  if (as_int(member(m, "requestId"), n)) return std::to_string(n);
  return {};
}

void append_request_id(std::string& out, const msgpack::object& request) {
  out += "{\"requestId\":";
  socketio::json::append_string(out, request_id_of(request));
}

// JSON (first byte '{') or msgpack, as the reference decides; JSON goes
// through msgpack so that one reader serves both. Throws on bad msgpack.
bool decode(std::string_view payload, std::size_t max, msgpack::sbuffer& buf,
            msgpack::object_handle& out) {
  if (!payload.empty() && payload[0] == '{') {
    Packer pk(buf);
    if (!pack_json(pk, payload)) return false;
    payload = std::string_view(buf.data(), buf.size());
  }
  out = unpack_referencing(payload, max);
  return true;
}

std::string request_head(const std::string& uid, int type) {
  std::string json = "{\"uid\":";
  socketio::json::append_string(json, uid);
  json += ",\"requestId\":\"REQUEST_ID\",\"type\":" + std::to_string(type);
  return json;
}

}  // namespace

std::string PubSubAdapter::next_request_id() {
  return node_.random_id(6);
}

void PubSubAdapter::publish_response(const msgpack::object& request, std::string_view payload) {
  std::string_view uid;
  if (as_string(member(request, "uid"), uid) && !uid.empty())
    node_.redis().publish(response_channel_ + std::string(uid) + "#", payload);
  else
    node_.redis().publish(response_channel_, payload);
}

void PubSubAdapter::on_request_message(std::string_view channel, std::string_view payload) {
  bool ok = false;
  try {
    msgpack::sbuffer buf;
    msgpack::object_handle oh;
    if (decode(payload, node_.options().max_message_bytes, buf, oh))
      ok = channel == request_channel_ ? apply_request(oh.get()) : apply_response(oh.get());
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok) ++node_.stats().messages_dropped;
}

bool PubSubAdapter::apply_request(const msgpack::object& req) {
  if (req.type != msgpack::type::MAP) return false;
  int64_t type = -1;
  if (!as_int(member(req, "type"), type)) return false;
  std::string_view uid;
  if (as_string(member(req, "uid"), uid) && uid == uid_) return true;  // our own
  switch (type) {
    case kSockets:
      return answer_sockets(req, false);
    case kRemoteFetch:
      return answer_sockets(req, true);
    case kAllRooms:
      return answer_all_rooms(req);
    case kServerSideEmit:
      return answer_server_side_emit(req);
    case kBroadcast:
      return answer_broadcast_with_ack(req);
    case kRemoteJoin:
    case kRemoteLeave:
    case kRemoteDisconnect:
      break;
    default:
      return true;  // unknown types are ignored, as the reference does
  }
  const msgpack::object* o = member(req, "opts");
  if (o == nullptr) {
    // The per-socket form: {sid, room, close, requestId}, answered.
    std::string_view sid, room;
    if (!as_string(member(req, "sid"), sid)) return false;
    socketio::Socket* s = nsp().socket(sid);
    if (s == nullptr) return true;
    if (type == kRemoteDisconnect) {
      s->disconnect(truthy(member(req, "close")));
    } else {
      if (!as_string(member(req, "room"), room)) return false;
      if (type == kRemoteJoin)
        s->join(room);
      else
        s->leave(room);
    }
    std::string answer;
    append_request_id(answer, req);
    publish_response(req, answer + "}");
    return true;
  }
  socketio::BroadcastOptions opts;
  if (!broadcast_options(o, opts)) return false;
  ++node_.stats().messages_applied;
  if (type == kRemoteDisconnect) {
    InMemoryAdapter::disconnect_sockets(opts, truthy(member(req, "close")));
    return true;
  }
  std::vector<std::string> rooms;
  if (!room_list(member(req, "rooms"), rooms)) return false;
  std::vector<std::string_view> v(rooms.begin(), rooms.end());
  if (type == kRemoteJoin)
    InMemoryAdapter::add_sockets(opts, v);
  else
    InMemoryAdapter::del_sockets(opts, v);
  return true;
}

// SOCKETS: {requestId, sockets: [ids]}; REMOTE_FETCH: {requestId, sockets:
// [{id, handshake, rooms, data}]}.
bool PubSubAdapter::answer_sockets(const msgpack::object& req, bool full) {
  socketio::BroadcastOptions opts;
  if (full) {
    if (!broadcast_options(member(req, "opts"), opts)) return false;
  } else if (!room_list(member(req, "rooms"), opts.rooms)) {
    return false;
  }
  ++node_.stats().messages_applied;
  std::string answer;
  append_request_id(answer, req);
  answer += ",\"sockets\":[";
  bool first = true;
  for (socketio::Socket* s : fetch_sockets(opts)) {
    if (!first) answer += ',';
    first = false;
    if (!full) {
      socketio::json::append_string(answer, s->id());
      continue;
    }
    socketio::RemoteSocket r = socketio::describe_socket(*s);
    answer += "{\"id\":";
    socketio::json::append_string(answer, r.id);
    answer += ",\"handshake\":" + r.handshake_json + ",\"rooms\":";
    append_json_strings(answer, r.rooms);
    answer += ",\"data\":" + r.data_json + "}";
  }
  publish_response(req, answer + "]}");
  return true;
}

bool PubSubAdapter::answer_all_rooms(const msgpack::object& req) {
  ++node_.stats().messages_applied;
  std::string answer;
  append_request_id(answer, req);
  answer += ",\"rooms\":";
  append_json_strings(answer, all_rooms());
  publish_response(req, answer + "}");
  return true;
}

// {uid, type: 6, data: [event, ...args], requestId?}: answered (on the
// shared response channel, as the reference) with the first ack value.
bool PubSubAdapter::answer_server_side_emit(const msgpack::object& req) {
  const msgpack::object* data = member(req, "data");
  if (data == nullptr || data->type != msgpack::type::ARRAY || data->via.array.size == 0 ||
      data->via.array.ptr[0].type != msgpack::type::STR)
    return false;
  std::string event(data->via.array.ptr[0].via.str.ptr, data->via.array.ptr[0].via.str.size);
  std::string args = "[";
  std::vector<std::string> attachments;
  for (uint32_t i = 1; i < data->via.array.size; ++i) {
    if (i > 1) args += ',';
    if (!append_json(args, data->via.array.ptr[i], attachments)) return false;
  }
  args += ']';
  ++node_.stats().messages_applied;
  socketio::Namespace::ServerSideAck ack;
  std::string request_id = request_id_of(req);
  if (member(req, "requestId") != nullptr) {
    auto called = std::make_shared<bool>(false);
    std::weak_ptr<bool> alive = alive_;
    ack = [this, alive, called, request_id](std::string_view answer_json) {
      if (*called || alive.expired()) return;
      *called = true;
      std::string answer = "{\"type\":6,\"requestId\":";
      socketio::json::append_string(answer, request_id);
      answer += ",\"data\":";
      answer += answer_json.empty() ? std::string_view("null") : answer_json;
      node_.redis().publish(response_channel_, answer + "}");
    };
  }
  nsp().dispatch_server_side_emit(event, args, std::move(ack));
  return true;
}

// {uid, requestId, type: 7, packet: {type, data, nsp}, opts: {rooms, except,
// flags: {timeout}}}: delivered here with our own ack id; the number of
// clients reached goes back as JSON type 8, each answer as msgpack type 9.
bool PubSubAdapter::answer_broadcast_with_ack(const msgpack::object& req) {
  std::string request_id = request_id_of(req);
  if (request_id.empty() || ack_requests_.count(request_id)) return true;  // ours
  const msgpack::object* packet = member(req, "packet");
  std::string_view nsp_name = "/";
  if (packet == nullptr) return false;
  if (const msgpack::object* n = member(*packet, "nsp"); n != nullptr && !as_string(n, nsp_name))
    return false;
  if (nsp_name != nsp().name()) return true;
  const msgpack::object* data = member(*packet, "data");
  if (data == nullptr || data->type != msgpack::type::ARRAY || data->via.array.size == 0 ||
      data->via.array.ptr[0].type != msgpack::type::STR)
    return false;
  socketio::BroadcastOptions opts;
  const msgpack::object* o = member(req, "opts");
  if (!broadcast_options(o, opts)) return false;
  int64_t timeout_ms = 5000;
  if (const msgpack::object* flags = member(*o, "flags"))
    as_int(member(*flags, "timeout"), timeout_ms);
  timeout_ms = std::clamp<int64_t>(timeout_ms, 0, 24 * 3600 * 1000);
  std::string json;
  std::vector<std::string> attachments;
  if (!append_json(json, *data, attachments)) return false;
  ++node_.stats().messages_applied;
  uint64_t ack_id = nsp().next_ack_id();
  auto encoded =
      socketio::encode(socketio::PacketType::Event, nsp().name(), ack_id, json, attachments);
  auto deadline = nsp().server().timers().now() + loop::Millis(timeout_ms);
  auto ack = std::make_shared<socketio::BroadcastAck>(nullptr, deadline);
  std::string uid_str;
  if (std::string_view u; as_string(member(req, "uid"), u)) uid_str = std::string(u);
  std::weak_ptr<bool> alive = alive_;
  ack->set_response_hook([this, alive, request_id, uid_str](std::string_view args,
                                                            const std::vector<std::string>& att) {
    if (alive.expired()) return;
    // The first answer argument, as the reference forwards it.
    std::vector<std::string_view> views(att.begin(), att.end());
    msgpack::sbuffer first;
    {
      Packer fp(first);
      if (!pack_json(fp, args, views)) return;
    }
    msgpack::object_handle oh;
    try {
      oh = unpack_referencing(std::string_view(first.data(), first.size()), SIZE_MAX);
    } catch (const std::exception&) {
      return;
    }
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_map(3);
    pack_str(pk, "type");
    pk.pack_uint8(kBroadcastAck);
    pack_str(pk, "requestId");
    pack_str(pk, request_id);
    pack_str(pk, "packet");
    const msgpack::object& arr = oh.get();
    if (arr.type == msgpack::type::ARRAY && arr.via.array.size > 0)
      pk.pack(arr.via.array.ptr[0]);
    else
      pk.pack_nil();
    std::string channel = response_channel_ + (uid_str.empty() ? "" : uid_str + "#");
    node_.redis().publish(channel, std::string_view(buf.data(), buf.size()));
  });
  nsp().track_broadcast_ack(ack);
  std::size_t before = ack->expected_clients();
  InMemoryAdapter::broadcast_with_ack(encoded, ack_id, opts, ack);
  std::string answer = "{\"type\":8,\"requestId\":";
  socketio::json::append_string(answer, request_id);
  answer += ",\"clientCount\":" + std::to_string(ack->expected_clients() - before) + "}";
  publish_response(req, answer);
  ack->set_server_count(1);
  return true;
}

bool PubSubAdapter::apply_response(const msgpack::object& res) {
  if (res.type != msgpack::type::MAP) return false;
  std::string id = request_id_of(res);
  if (id.empty()) return true;  // an answer to the per-socket forms
  if (auto it = ack_requests_.find(id); it != ack_requests_.end()) {
    std::shared_ptr<socketio::BroadcastAck> ack = it->second.lock();
    if (!ack || ack->done()) {
      ack_requests_.erase(it);
      return true;
    }
    int64_t type = -1;
    as_int(member(res, "type"), type);
    if (type == kBroadcastClientCount) {
      int64_t n = 0;
      if (!as_int(member(res, "clientCount"), n) || n < 0) return false;
      ack->add_client_count(static_cast<std::size_t>(n));
    } else if (type == kBroadcastAck) {
      const msgpack::object* p = member(res, "packet");
      std::string args = "[";
      std::vector<std::string> attachments;
      if (p != nullptr && !append_json(args, *p, attachments)) return false;
      ack->on_response(args + "]", std::move(attachments));
    }
    return true;
  }
  auto it = pending_.find(id);
  if (it == pending_.end()) return true;  // another node's, or too late
  ++it->second.got;
  it->second.on_answer(res);
  if (it->second.got >= it->second.expected) finish(id, true);
  return true;
}

void PubSubAdapter::finish(const std::string& request_id, bool complete) {
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (!complete) ++node_.stats().request_timeouts;
  p.done(complete);
}

void PubSubAdapter::count_servers(std::function<void(std::size_t)> callback) {
  std::string_view args[] = {"PUBSUB", "NUMSUB", request_channel_};
  std::weak_ptr<bool> alive = alive_;
  auto cb = std::make_shared<std::function<void(std::size_t)>>(std::move(callback));
  bool sent = node_.redis().command(args, [this, alive, cb](const redisReply* r) {
    std::size_t n = 0;
    if (r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer > 0)
      n = static_cast<std::size_t>(r->element[1]->integer);
    if (!alive.expired() && n > 0) last_server_count_ = n;
    (*cb)(n);
  });
  if (!sent) (*cb)(0);
}

// NUMSUB first (the reference's serverCount), then the request with
// numsub - 1 answers expected. No Redis: the local answer, incomplete.
void PubSubAdapter::ask(std::string request_json, Pending pending) {
  std::weak_ptr<bool> alive = alive_;
  auto shared = std::make_shared<Pending>(std::move(pending));
  count_servers([this, alive, shared, request_json = std::move(request_json)](std::size_t n) {
    if (alive.expired()) return;
    if (n == 0) return shared->done(false);
    if (n <= 1) return shared->done(true);
    std::string id = next_request_id();
    std::string json = request_json;
    std::string quoted;
    socketio::json::append_string(quoted, id);
    json.replace(json.find(kRequestIdSlot), kRequestIdSlot.size(), quoted);
    Pending p = std::move(*shared);
    p.expected = n - 1;
    p.timer = std::make_unique<loop::Timer>(node_.timers(), [this, id] { finish(id, false); });
    p.timer->arm(node_.options().requests_timeout);
    pending_.emplace(id, std::move(p));
    publish_request(json);
  });
}

void PubSubAdapter::fetch_sockets_async(const socketio::BroadcastOptions& opts,
                                        socketio::FetchSocketsCallback callback) {
  auto sockets = std::make_shared<std::vector<socketio::RemoteSocket>>();
  for (socketio::Socket* s : fetch_sockets(opts)) sockets->push_back(socketio::describe_socket(*s));
  if (opts.flags.local) return callback(std::move(*sockets), true);
  std::string json = request_head(uid_, kRemoteFetch) + ",";
  append_rooms_json(json, opts);
  Pending p;
  p.on_answer = [sockets](const msgpack::object& res) { read_remote_sockets(res, *sockets); };
  p.done = [sockets, callback = std::move(callback)](bool complete) {
    callback(std::move(*sockets), complete);
  };
  ask(json + "}", std::move(p));
}

void PubSubAdapter::all_rooms_async(socketio::RoomsCallback callback) {
  auto rooms = std::make_shared<std::vector<std::string>>(all_rooms());
  Pending p;
  p.on_answer = [rooms](const msgpack::object& res) {
    std::vector<std::string> more;
    if (!room_list(member(res, "rooms"), more)) return;
    for (std::string& r : more)
      if (std::find(rooms->begin(), rooms->end(), r) == rooms->end())
        rooms->push_back(std::move(r));
  };
  p.done = [rooms, callback = std::move(callback)](bool complete) {
    callback(std::move(*rooms), complete);
  };
  ask(request_head(uid_, kAllRooms) + "}", std::move(p));
}

void PubSubAdapter::server_side_emit(std::string_view event, std::string_view args,
                                     socketio::ServerSideEmitCallback callback) {
  std::string data = "[";
  socketio::json::append_string(data, event);
  socketio::append_args_after_name(data, args);
  if (!callback) {
    std::string json = "{\"uid\":";
    socketio::json::append_string(json, uid_);
    publish_request(json + ",\"type\":6,\"data\":" + data + "}");
    return;
  }
  auto answers = std::make_shared<std::vector<std::string>>();
  Pending p;
  p.on_answer = [answers](const msgpack::object& res) {
    std::string json;
    std::vector<std::string> att;
    const msgpack::object* d = member(res, "data");
    if (d == nullptr)
      json = "null";
    else if (!append_json(json, *d, att))
      return;
    answers->push_back(std::move(json));
  };
  p.done = [answers, callback = std::move(callback)](bool complete) {
    callback(std::move(*answers), complete);
  };
  ask(request_head(uid_, kServerSideEmit) + ",\"data\":" + data + "}", std::move(p));
}

void PubSubAdapter::broadcast_with_ack(const socketio::EncodedPacket& packet, uint64_t ack_id,
                                       const socketio::BroadcastOptions& opts,
                                       const std::shared_ptr<socketio::BroadcastAck>& ack) {
  InMemoryAdapter::broadcast_with_ack(packet, ack_id, opts, ack);
  if (opts.flags.local) return ack->set_server_count(1);
  auto now = nsp().server().timers().now();
  int64_t timeout_ms =
      std::max<int64_t>(0, std::chrono::ceil<loop::Millis>(ack->deadline() - now).count());
  std::string request_id = next_request_id();
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_map(5);
  pack_str(pk, "uid");
  pack_str(pk, uid_);
  pack_str(pk, "requestId");
  pack_str(pk, request_id);
  pack_str(pk, "type");
  pk.pack_uint8(kBroadcast);
  pack_str(pk, "packet");
  if (!pack_packet(pk, packet)) return ack->set_server_count(1);
  pack_str(pk, "opts");
  pack_options(pk, opts, timeout_ms);
  std::erase_if(ack_requests_, [](const auto& kv) {
    auto a = kv.second.lock();
    return !a || a->done();
  });
  ack_requests_.emplace(request_id, ack);
  publish_request(std::string_view(buf.data(), buf.size()));
  std::weak_ptr<socketio::BroadcastAck> weak = ack;
  count_servers([weak](std::size_t n) {
    if (auto a = weak.lock()) a->set_server_count(n == 0 ? 1 : n);
  });
}

}  // namespace daheim::cluster
