// A saved socket in @socket.io/redis-streams-adapter's session format
// (reference/cluster.md §1.8): base64 of the msgpack map {sid, pid, rooms,
// data}, under `sio:session:<pid>`. What only this server needs (namespace,
// owner, the log's head at connect, plugin state) rides in one more key,
// "daheim", which Node.js nodes ignore.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "socketio/session_store.hpp"

namespace daheim::cluster {

std::string encode_session(const socketio::SavedSession& session);
// nullopt: not a session (bad base64 or msgpack, sid/pid/rooms missing).
// `nsp` is left empty when the session does not name one (a Node.js node's).
std::optional<socketio::SavedSession> decode_session(std::string_view text);

}  // namespace daheim::cluster
