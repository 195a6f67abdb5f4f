#include "socketio/protocol_v4.hpp"

#include "engineio/hex_digit.hpp"
#include "socketio/json_text.hpp"

namespace daheim::socketio::v4 {
namespace {

using engineio::hex_value;

// application/x-www-form-urlencoded decoding; a bad escape stays as it is.
std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

bool is_legacy(const engineio::Handshake& handshake) {
  return handshake.query_param("EIO") == "3";
}

ConnectTarget parse_connect_nsp(std::string_view nsp) {
  std::size_t q = nsp.find('?');
  ConnectTarget t{nsp.substr(0, q), "{"};
  if (q != std::string_view::npos) {
    std::string_view query = nsp.substr(q + 1);
    bool first = true;
    while (!query.empty()) {
      std::size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (pair.empty()) continue;
      std::size_t eq = pair.find('=');
      std::string key = form_decode(pair.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : form_decode(pair.substr(eq + 1));
      if (!json::valid_utf8(key) || !json::valid_utf8(value)) continue;
      if (!first) t.auth_json += ',';
      first = false;
      json::append_string(t.auth_json, key);
      t.auth_json += ':';
      json::append_string(t.auth_json, value);
    }
  }
  t.auth_json += '}';
  return t;
}

std::string socket_id(std::string_view nsp, std::string_view sid) {
  if (nsp == "/" || nsp.empty()) return std::string(sid);
  std::string id(nsp);
  id += '#';
  id.append(sid);
  return id;
}

EncodedPacket encode_connect(std::string_view nsp) {
  return encode(PacketType::Connect, nsp, std::nullopt, {});
}

EncodedPacket encode_connect_error(std::string_view nsp, std::string_view message,
                                   std::string_view data_json) {
  if (!data_json.empty()) return encode(PacketType::ConnectError, nsp, std::nullopt, data_json);
  std::string text;
  json::append_string(text, message);
  return encode(PacketType::ConnectError, nsp, std::nullopt, text);
}

}  // namespace daheim::socketio::v4
