// What differs for clients of Socket.IO protocol 4 (socket.io-client 1.x /
// 2.x over Engine.IO 3), as socket.io serves them with allowEIO3 (pure):
// the server connects them to "/" unasked; CONNECT carries no payload either
// way (the client puts its auth in the namespace's query: "0/admin?token=x,");
// a socket's id is the Engine.IO sid ("/admin#<sid>" outside "/"); a refusal
// (CONNECT_ERROR) carries the error's data, or its message as a JSON string.
#pragma once

#include <string>
#include <string_view>

#include "engineio/handler.hpp"
#include "socketio/encoder.hpp"

namespace daheim::socketio::v4 {

// A connection speaks protocol 4 when its Engine.IO handshake said EIO=3.
bool is_legacy(const engineio::Handshake& handshake);

// "/admin?token=x&a=%20b" -> name "/admin", auth {"token":"x","a":" b"} (JSON
// text; "{}" without a query). Values are percent-decoded, '+' is a space.
struct ConnectTarget {
  std::string_view name;
  std::string auth_json;
};
ConnectTarget parse_connect_nsp(std::string_view nsp);

// The socket id: the sid in "/", "<nsp>#<sid>" elsewhere.
std::string socket_id(std::string_view nsp, std::string_view sid);

// "0" / "0/admin,": the CONNECT answer, without payload.
EncodedPacket encode_connect(std::string_view nsp);
// "4"-packets with `data_json` when given, else the message as a string.
EncodedPacket encode_connect_error(std::string_view nsp, std::string_view message,
                                   std::string_view data_json = {});

}  // namespace daheim::socketio::v4
