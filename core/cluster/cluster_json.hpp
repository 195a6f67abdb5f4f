// JSON pieces of socket.io-adapter's ClusterAdapter messages, shared by the
// sharded and streams adapters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/broadcast_options.hpp"
#include "socketio/json_text.hpp"

namespace daheim::cluster {

inline void append_strings(std::string& out, const std::vector<std::string>& list) {
  out += '[';
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i) out += ',';
    socketio::json::append_string(out, list[i]);
  }
  out += ']';
}

// {"rooms":[...],"except":[...],"flags":{...}}; flags.timeout when
// `timeout_ms` >= 0.
inline std::string options_json(const socketio::BroadcastOptions& opts, int64_t timeout_ms = -1) {
  std::string out = "{\"rooms\":";
  append_strings(out, opts.rooms);
  out += ",\"except\":";
  append_strings(out, opts.except);
  out += ",\"flags\":{";
  if (opts.flags.volatile_) out += "\"volatile\":true";
  if (timeout_ms >= 0) {
    if (opts.flags.volatile_) out += ',';
    out += "\"timeout\":" + std::to_string(timeout_ms);
  }
  return out + "}}";
}

inline std::string json_quoted(std::string_view s) {
  std::string out;
  socketio::json::append_string(out, s);
  return out;
}

}  // namespace daheim::cluster
