#include "cluster/session_codec.hpp"

#include "cluster/msgpack_read.hpp"
#include "cluster/stream_entry.hpp"

namespace daheim::cluster {
namespace {

constexpr std::size_t kMaxSessionBytes = 16 * 1024 * 1024;

void pack_extension(Packer& pk, const socketio::SavedSession& s) {
  pk.pack_map(6);
  pack_str(pk, "nsp");
  pack_str(pk, s.nsp);
  pack_str(pk, "owner");
  pack_str(pk, s.owner);
  pack_str(pk, "start");
  pack_str(pk, s.start_offset);
  pack_str(pk, "vtail");
  pk.pack_uint64(s.volatile_tail);
  pack_str(pk, "vtailOffset");
  pack_str(pk, s.volatile_tail_offset);
  pack_str(pk, "ext");
  pk.pack_map(static_cast<uint32_t>(s.extensions.size()));
  for (const auto& [name, bytes] : s.extensions) {
    pack_str(pk, name);
    pk.pack_bin(static_cast<uint32_t>(bytes.size()));
    pk.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
  }
}

void read_extension(const msgpack::object& x, socketio::SavedSession& s) {
  std::string_view v;
  if (as_string(member(x, "nsp"), v)) s.nsp = v;
  if (as_string(member(x, "owner"), v)) s.owner = v;
  if (as_string(member(x, "start"), v)) s.start_offset = v;
  if (as_string(member(x, "vtailOffset"), v)) s.volatile_tail_offset = v;
  const msgpack::object* t = member(x, "vtail");
  if (t != nullptr && t->type == msgpack::type::POSITIVE_INTEGER) s.volatile_tail = t->via.u64;
  const msgpack::object* ext = member(x, "ext");
  if (ext == nullptr || ext->type != msgpack::type::MAP) return;
  for (uint32_t i = 0; i < ext->via.map.size; ++i) {
    const msgpack::object_kv& kv = ext->via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR || kv.val.type != msgpack::type::BIN) continue;
    s.extensions.emplace_back(std::string(kv.key.via.str.ptr, kv.key.via.str.size),
                              std::string(kv.val.via.bin.ptr, kv.val.via.bin.size));
  }
}

}  // namespace

std::string encode_session(const socketio::SavedSession& s) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_map(5);
  pack_str(pk, "sid");
  pack_str(pk, s.sid);
  pack_str(pk, "pid");
  pack_str(pk, s.pid);
  pack_str(pk, "rooms");
  pk.pack_array(static_cast<uint32_t>(s.rooms.size()));
  for (const std::string& r : s.rooms) pack_str(pk, r);
  pack_str(pk, "data");
  {
    msgpack::sbuffer data;
    Packer dp(data);
    if (s.data.empty() || !pack_json(dp, s.data))
      pk.pack_map(0);  // socket.data starts as {}
    else
      buf.write(data.data(), data.size());
  }
  pack_str(pk, "daheim");
  pack_extension(pk, s);
  return base64_encode(std::string_view(buf.data(), buf.size()));
}

std::optional<socketio::SavedSession> decode_session(std::string_view text) {
  std::optional<std::string> bytes = base64_decode(text);
  if (!bytes) return std::nullopt;
  try {
    msgpack::object_handle oh = unpack_referencing(*bytes, kMaxSessionBytes);
    const msgpack::object& m = oh.get();
    socketio::SavedSession s;
    std::string_view sid, pid;
    if (!as_string(member(m, "sid"), sid) || !as_string(member(m, "pid"), pid) ||
        !room_list(member(m, "rooms"), s.rooms))
      return std::nullopt;
    s.sid = sid;
    s.pid = pid;
    if (const msgpack::object* data = member(m, "data");
        data != nullptr && data->type != msgpack::type::NIL) {
      std::vector<std::string> attachments;
      if (!append_json(s.data, *data, attachments) || !attachments.empty()) s.data.clear();
    }
    if (const msgpack::object* x = member(m, "daheim")) read_extension(*x, s);
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace daheim::cluster
