// A connect middleware's refusal, sent as CONNECT_ERROR
// {"message":<message>,"data":<data>}.
#pragma once

#include <string>

namespace daheim::socketio {

struct ConnectError {
  std::string message;
  std::string data;  // JSON text; empty = no "data" member
};

}  // namespace daheim::socketio
