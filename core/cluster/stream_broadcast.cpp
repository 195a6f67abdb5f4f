#include "cluster/stream_broadcast.hpp"

#include "cluster/msgpack_read.hpp"

namespace daheim::cluster {

bool decode_stream_broadcast(const StreamEntry& entry, StreamBroadcast& out) {
  if (entry.type != 3 || entry.data.empty()) return false;
  try {
    msgpack::sbuffer buf;
    if (!decode_stream_data(entry.data, buf)) return false;
    msgpack::object_handle oh =
        unpack_referencing(std::string_view(buf.data(), buf.size()), buf.size() + 1);
    const msgpack::object& data = oh.get();
    const msgpack::object* packet = member(data, "packet");
    const msgpack::object* args = packet ? member(*packet, "data") : nullptr;
    if (args == nullptr || args->type != msgpack::type::ARRAY || args->via.array.size == 0 ||
        args->via.array.ptr[0].type != msgpack::type::STR)
      return false;
    if (!broadcast_options(member(data, "opts"), out.opts)) return false;
    const msgpack::object* id = member(*packet, "id");
    out.has_ack_id = id != nullptr && id->type != msgpack::type::NIL;
    out.has_request = member(data, "requestId") != nullptr;
    return append_json(out.json, *args, out.attachments);
  } catch (const std::exception&) {
    return false;
  }
}

socketio::EncodedPacket stream_packet(std::string_view nsp, const StreamBroadcast& b,
                                      std::string_view offset) {
  if (offset.empty())
    return socketio::encode(socketio::PacketType::Event, nsp, std::nullopt, b.json, b.attachments);
  std::string json = b.json;
  json.pop_back();  // the array's ']'
  json += ',';
  socketio::json::append_string(json, offset);
  json += ']';
  socketio::EncodedPacket p =
      socketio::encode(socketio::PacketType::Event, nsp, std::nullopt, json, b.attachments);
  p.logged = true;
  return p;
}

}  // namespace daheim::cluster
