// Reading the msgpack objects of socket.io's cluster messages, and the
// shared pieces of their JSON requests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/msgpack_json.hpp"
#include "socketio/adapter.hpp"
#include "socketio/broadcast_options.hpp"
#include "socketio/json_text.hpp"

namespace daheim::cluster {

inline void pack_str(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

inline const msgpack::object* member(const msgpack::object& map, std::string_view key) {
  if (map.type != msgpack::type::MAP) return nullptr;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object_kv& kv = map.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key)
      return &kv.val;
  }
  return nullptr;
}

inline bool as_string(const msgpack::object* o, std::string_view& out) {
  if (o == nullptr || o->type != msgpack::type::STR) return false;
  out = std::string_view(o->via.str.ptr, o->via.str.size);
  return true;
}

inline bool as_int(const msgpack::object* o, int64_t& out) {
  if (o == nullptr) return false;
  if (o->type == msgpack::type::POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
    out = static_cast<int64_t>(o->via.u64);
    return true;
  }
  if (o->type == msgpack::type::NEGATIVE_INTEGER) {
    out = o->via.i64;
    return true;
  }
  return false;
}

inline bool truthy(const msgpack::object* o) {
  return o != nullptr && o->type == msgpack::type::BOOLEAN && o->via.boolean;
}

// Room lists: strings, or numbers (socket.io-adapter's Room is string | number).
inline bool room_list(const msgpack::object* o, std::vector<std::string>& out) {
  if (o == nullptr || o->type == msgpack::type::NIL) return true;
  if (o->type != msgpack::type::ARRAY) return false;
  for (uint32_t i = 0; i < o->via.array.size; ++i) {
    const msgpack::object& r = o->via.array.ptr[i];
    if (r.type == msgpack::type::STR)
      out.emplace_back(r.via.str.ptr, r.via.str.size);
    else if (r.type == msgpack::type::POSITIVE_INTEGER)
      out.push_back(std::to_string(r.via.u64));
    else if (r.type == msgpack::type::NEGATIVE_INTEGER)
      out.push_back(std::to_string(r.via.i64));
    else
      return false;
  }
  return true;
}

inline bool broadcast_options(const msgpack::object* opts, socketio::BroadcastOptions& out) {
  if (opts == nullptr || opts->type != msgpack::type::MAP) return false;
  if (!room_list(member(*opts, "rooms"), out.rooms) ||
      !room_list(member(*opts, "except"), out.except))
    return false;
  if (const msgpack::object* flags = member(*opts, "flags"))
    out.flags.volatile_ = truthy(member(*flags, "volatile"));
  return true;
}

// The `sockets` of a fetchSockets answer (both adapters' formats):
// appended to `out`; entries without a string id are skipped.
inline void read_remote_sockets(const msgpack::object& answer,
                                std::vector<socketio::RemoteSocket>& out) {
  const msgpack::object* list = member(answer, "sockets");
  if (list == nullptr || list->type != msgpack::type::ARRAY) return;
  for (uint32_t i = 0; i < list->via.array.size; ++i) {
    const msgpack::object& s = list->via.array.ptr[i];
    socketio::RemoteSocket r;
    std::string_view id;
    std::vector<std::string> att;
    if (!as_string(member(s, "id"), id)) continue;
    r.id = std::string(id);
    room_list(member(s, "rooms"), r.rooms);
    if (const msgpack::object* h = member(s, "handshake")) append_json(r.handshake_json, *h, att);
    if (const msgpack::object* d = member(s, "data")) append_json(r.data_json, *d, att);
    out.push_back(std::move(r));
  }
}

// Requests (socket.io-redis-adapter RequestType).
enum RequestType : int64_t {
  kSockets = 0,
  kAllRooms = 1,
  kRemoteJoin = 2,
  kRemoteLeave = 3,
  kRemoteDisconnect = 4,
  kRemoteFetch = 5,
  kServerSideEmit = 6,
  kBroadcast = 7,
  kBroadcastClientCount = 8,
  kBroadcastAck = 9,
};

inline void append_rooms_json(std::string& out, const socketio::BroadcastOptions& opts) {
  out += "\"opts\":{\"rooms\":[";
  for (std::size_t i = 0; i < opts.rooms.size(); ++i) {
    if (i) out += ',';
    socketio::json::append_string(out, opts.rooms[i]);
  }
  out += "],\"except\":[";
  for (std::size_t i = 0; i < opts.except.size(); ++i) {
    if (i) out += ',';
    socketio::json::append_string(out, opts.except[i]);
  }
  out += "]}";
}

}  // namespace daheim::cluster
