#include "socketio/decoder.hpp"

#include <algorithm>
#include <array>

#include "socketio/json_text.hpp"

namespace daheim::socketio {
namespace {

constexpr std::array<std::string_view, 6> kReservedEvents = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_binary(PacketType type) {
  return type == PacketType::BinaryEvent || type == PacketType::BinaryAck;
}

// "<digits>-" at text[i].
DecodeError parse_attachments(std::string_view text, std::size_t& i, std::size_t max,
                              std::size_t& count) {
  std::size_t start = i;
  count = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    count = count * 10 + static_cast<std::size_t>(text[i] - '0');
    if (count > max) return DecodeError::TooManyAttachments;
  }
  if (i == start || i >= text.size() || text[i] != '-') return DecodeError::IllegalAttachments;
  ++i;
  return DecodeError::None;
}

// "/nsp," or "/nsp" up to the end of the text.
void parse_namespace(std::string_view text, std::size_t& i, Packet& out) {
  if (i >= text.size() || text[i] != '/') return;
  std::size_t comma = text.find(',', i);
  if (comma == std::string_view::npos) {
    out.nsp = text.substr(i);
    i = text.size();
  } else {
    out.nsp = text.substr(i, comma - i);
    i = comma + 1;
  }
}

DecodeError parse_ack_id(std::string_view text, std::size_t& i, Packet& out) {
  if (i >= text.size() || !is_digit(text[i])) return DecodeError::None;
  uint64_t id = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    id = id * 10 + static_cast<uint64_t>(text[i] - '0');
    if (id > kMaxAckId) return DecodeError::InvalidAckId;
  }
  out.id = id;
  return DecodeError::None;
}

DecodeError check_event(Packet& p, const json::Shape& shape) {
  if (shape.kind != json::Kind::Array) return DecodeError::InvalidPayload;
  std::string_view first = p.data.substr(shape.first_begin, shape.first_end - shape.first_begin);
  if (shape.first == json::Kind::String) {
    json::unescape(first.substr(1, first.size() - 2), p.name);
    if (is_reserved_event(p.name)) return DecodeError::InvalidPayload;
  } else if (shape.first == json::Kind::Number) {
    p.name.assign(first);
  } else {
    return DecodeError::InvalidPayload;
  }
  p.args_tail = p.data.substr(shape.rest, shape.end - shape.rest);
  return DecodeError::None;
}

bool shape_fits(PacketType type, json::Kind kind) {
  switch (type) {
    case PacketType::Connect:
      return kind == json::Kind::Object;
    case PacketType::ConnectError:
      return kind == json::Kind::Object || kind == json::Kind::String;
    case PacketType::Ack:
    case PacketType::BinaryAck:
      return kind == json::Kind::Array;
    default:
      return false;
  }
}

DecodeError check_payload(Packet& p, std::size_t attachments) {
  if (p.data.empty()) {
    bool may_be_absent = p.type == PacketType::Connect || p.type == PacketType::Disconnect ||
                         p.type == PacketType::ConnectError;
    return may_be_absent ? DecodeError::None : DecodeError::InvalidPayload;
  }
  if (p.type == PacketType::Disconnect) return DecodeError::InvalidPayload;
  json::Shape shape;
  switch (json::scan(p.data, shape, is_binary(p.type), attachments)) {
    case json::ScanError::None:
      break;
    case json::ScanError::Syntax:
      return DecodeError::InvalidJson;
    case json::ScanError::TooDeep:
      return DecodeError::TooDeep;
    case json::ScanError::Placeholder:
      return DecodeError::IllegalPlaceholder;
  }
  if (p.is_event()) return check_event(p, shape);
  return shape_fits(p.type, shape.kind) ? DecodeError::None : DecodeError::InvalidPayload;
}

}  // namespace

bool is_reserved_event(std::string_view name) {
  return std::find(kReservedEvents.begin(), kReservedEvents.end(), name) != kReservedEvents.end();
}

std::string_view to_string(DecodeError error) {
  switch (error) {
    case DecodeError::None:
      return "none";
    case DecodeError::Empty:
      return "empty packet";
    case DecodeError::InvalidUtf8:
      return "invalid UTF-8";
    case DecodeError::UnknownType:
      return "unknown packet type";
    case DecodeError::IllegalAttachments:
      return "illegal attachments";
    case DecodeError::TooManyAttachments:
      return "too many attachments";
    case DecodeError::InvalidAckId:
      return "invalid ack id";
    case DecodeError::InvalidJson:
      return "invalid JSON";
    case DecodeError::TooDeep:
      return "JSON nested too deep";
    case DecodeError::InvalidPayload:
      return "invalid payload";
    case DecodeError::IllegalPlaceholder:
      return "illegal attachments";
    case DecodeError::UnexpectedText:
      return "got plaintext data when reconstructing a packet";
    case DecodeError::UnexpectedBinary:
      return "got binary data when not reconstructing a packet";
  }
  return "unknown";
}

DecodeError decode_text(std::string_view text, std::size_t max_attachments, Packet& out,
                        std::size_t& attachments) {
  out = Packet{};
  attachments = 0;
  if (text.empty()) return DecodeError::Empty;
  if (!json::valid_utf8(text)) return DecodeError::InvalidUtf8;
  if (text[0] < '0' || text[0] > '6') return DecodeError::UnknownType;
  out.type = static_cast<PacketType>(text[0] - '0');
  std::size_t i = 1;
  if (is_binary(out.type)) {
    DecodeError e = parse_attachments(text, i, max_attachments, attachments);
    if (e != DecodeError::None) return e;
  }
  parse_namespace(text, i, out);
  if (DecodeError e = parse_ack_id(text, i, out); e != DecodeError::None) return e;
  out.data = text.substr(i);
  return check_payload(out, attachments);
}

DecodeStatus Decoder::add_text(std::string_view text, Packet& out) {
  if (delivered_) reset();
  if (binary_) return fail(DecodeError::UnexpectedText);
  if (!text.empty() && (text[0] == '5' || text[0] == '6')) return start_binary(text, out);
  std::size_t attachments = 0;
  error_ = decode_text(text, max_attachments_, out, attachments);
  return error_ == DecodeError::None ? DecodeStatus::Complete : fail(error_);
}

DecodeStatus Decoder::start_binary(std::string_view text, Packet& out) {
  auto binary = std::make_unique<Binary>();
  binary->text.assign(text);
  error_ = decode_text(binary->text, max_attachments_, binary->packet, binary->expected);
  if (error_ != DecodeError::None) return fail(error_);
  binary_ = std::move(binary);
  if (binary_->expected == 0) {
    out = std::move(binary_->packet);
    delivered_ = true;
    return DecodeStatus::Complete;
  }
  binary_->packet.attachments.reserve(binary_->expected);
  return DecodeStatus::Pending;
}

DecodeStatus Decoder::add_binary(std::string_view data, Packet& out) {
  if (delivered_) reset();
  if (!binary_) return fail(DecodeError::UnexpectedBinary);
  binary_->packet.attachments.emplace_back(data);
  if (binary_->packet.attachments.size() < binary_->expected) return DecodeStatus::Pending;
  out = std::move(binary_->packet);
  delivered_ = true;
  return DecodeStatus::Complete;
}

void Decoder::reset() {
  binary_.reset();
  delivered_ = false;
}

DecodeStatus Decoder::fail(DecodeError error) {
  reset();
  error_ = error;
  return DecodeStatus::Failed;
}

}  // namespace daheim::socketio
