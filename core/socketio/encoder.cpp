#include "socketio/encoder.hpp"

#include <charconv>

#include "socketio/json_text.hpp"

namespace daheim::socketio {
namespace {

constexpr std::size_t kScratchKeep = 64 * 1024;

// Per-thread scratch for the packet text: make_text_frame copies it into the
// frame, so encoding allocates only the frames themselves.
class Scratch {
 public:
  Scratch() : text_(buffer()) { text_.clear(); }
  ~Scratch() {
    if (text_.capacity() > kScratchKeep) std::string().swap(text_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::string& text() { return text_; }

 private:
  static std::string& buffer() {
    thread_local std::string s;
    return s;
  }
  std::string& text_;
};

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_ws(std::string_view s, std::size_t i) {
  while (i < s.size() && is_ws(s[i])) ++i;
  return i;
}

void append_number(std::string& out, uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

EncodedPacket finish(const std::string& text, std::span<const std::string> attachments) {
  EncodedPacket p;
  p.text = engineio::make_text_frame(engineio::PacketType::Message, text);
  p.attachments.reserve(attachments.size());
  for (const std::string& a : attachments) p.attachments.push_back(engineio::make_binary_frame(a));
  return p;
}

PacketType wire_type(PacketType type, std::size_t attachments) {
  if (attachments == 0) return type;
  if (type == PacketType::Event) return PacketType::BinaryEvent;
  if (type == PacketType::Ack) return PacketType::BinaryAck;
  return type;
}

}  // namespace

void append_header(std::string& out, PacketType type, std::string_view nsp, std::size_t attachments,
                   std::optional<uint64_t> id) {
  type = wire_type(type, attachments);
  out += static_cast<char>('0' + static_cast<int>(type));
  if (type == PacketType::BinaryEvent || type == PacketType::BinaryAck) {
    append_number(out, attachments);
    out += '-';
  }
  if (nsp != kMainNamespace && !nsp.empty()) {
    out.append(nsp);
    out += ',';
  }
  if (id) append_number(out, *id);
}

void append_args_after_name(std::string& out, std::string_view args) {
  std::size_t i = skip_ws(args, 0);
  if (i == args.size()) {
    out += ']';
  } else if (args[i] != '[') {
    out += ',';
    out.append(args.substr(i));
    out += ']';
  } else if (std::size_t j = skip_ws(args, i + 1); j < args.size() && args[j] == ']') {
    out += ']';
  } else {
    out += ',';
    out.append(args.substr(i + 1));
  }
}

EncodedPacket encode(PacketType type, std::string_view nsp, std::optional<uint64_t> id,
                     std::string_view payload, std::span<const std::string> attachments) {
  Scratch scratch;
  std::string& s = scratch.text();
  append_header(s, type, nsp, attachments.size(), id);
  s.append(payload);
  return finish(s, attachments);
}

EncodedPacket encode_event(std::string_view nsp, std::string_view name, std::string_view args,
                           std::span<const std::string> attachments, std::optional<uint64_t> id) {
  Scratch scratch;
  std::string& s = scratch.text();
  append_header(s, PacketType::Event, nsp, attachments.size(), id);
  s += '[';
  json::append_string(s, name);
  append_args_after_name(s, args);
  return finish(s, attachments);
}

EncodedPacket encode_logged_event(std::string_view nsp, std::string_view name,
                                  std::string_view args, std::span<const std::string> attachments,
                                  std::string_view offset) {
  Scratch scratch;
  std::string& s = scratch.text();
  append_header(s, PacketType::Event, nsp, attachments.size(), std::nullopt);
  s += '[';
  json::append_string(s, name);
  append_args_after_name(s, args);
  s.back() = ',';
  json::append_string(s, offset);
  s += ']';
  return finish(s, attachments);
}

EncodedPacket encode_ack(std::string_view nsp, uint64_t id, std::string_view args,
                         std::span<const std::string> attachments) {
  Scratch scratch;
  std::string& s = scratch.text();
  append_header(s, PacketType::Ack, nsp, attachments.size(), id);
  std::size_t i = skip_ws(args, 0);
  if (i == args.size()) {
    s += "[]";
  } else if (args[i] == '[') {
    s.append(args);
  } else {
    s += '[';
    s.append(args.substr(i));
    s += ']';
  }
  return finish(s, attachments);
}

EncodedPacket encode_connect(std::string_view nsp, std::string_view sid, std::string_view pid) {
  Scratch scratch;
  std::string& s = scratch.text();
  append_header(s, PacketType::Connect, nsp, 0, std::nullopt);
  s += "{\"sid\":";
  json::append_string(s, sid);
  if (!pid.empty()) {
    s += ",\"pid\":";
    json::append_string(s, pid);
  }
  s += '}';
  return finish(s, {});
}

EncodedPacket encode_connect_error(std::string_view nsp, std::string_view message,
                                   std::string_view data_json) {
  Scratch scratch;
  std::string& s = scratch.text();
  append_header(s, PacketType::ConnectError, nsp, 0, std::nullopt);
  s += "{\"message\":";
  json::append_string(s, message);
  if (!data_json.empty()) {
    s += ",\"data\":";
    s.append(data_json);
  }
  s += '}';
  return finish(s, {});
}

EncodedPacket encode_disconnect(std::string_view nsp) {
  return encode(PacketType::Disconnect, nsp, std::nullopt, {});
}

}  // namespace daheim::socketio
