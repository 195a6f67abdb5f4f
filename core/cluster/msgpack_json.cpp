#include "cluster/msgpack_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "socketio/json_text.hpp"

namespace daheim::cluster {
namespace {

class JsonPacker {
 public:
  JsonPacker(Packer& pk, std::string_view s, std::span<const std::string_view> att)
      : pk_(pk), s_(s), att_(att) {}

  bool run() {
    ws();
    if (!value(0)) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  // Skips one value (no packing); used to count members ahead of a header.
  bool skip(std::size_t depth) {
    if (depth > kMaxNesting) return false;
    ws();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '"') return skip_string();
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++i_;
      if (eat(close)) return true;
      do {
        if (c == '{') {
          ws();
          if (!skip_string() || !eat(':')) return false;
        }
        if (!skip(depth + 1)) return false;
      } while (eat(','));
      return eat(close);
    }
    std::size_t start = i_;
    while (i_ < s_.size() &&
           std::string_view("{}[],: \t\r\n\"").find(s_[i_]) == std::string_view::npos)
      ++i_;
    return i_ > start;
  }
  bool skip_string() {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    for (++i_; i_ < s_.size(); ++i_) {
      if (s_[i_] == '\\')
        ++i_;
      else if (s_[i_] == '"') {
        ++i_;
        return true;
      }
    }
    return false;
  }
  bool string_body(std::string_view& body) {
    std::size_t start = i_ + 1;
    if (!skip_string()) return false;
    body = s_.substr(start, i_ - start - 1);
    return true;
  }
  bool pack_string() {
    std::string_view body;
    if (!string_body(body)) return false;
    if (body.find('\\') == std::string_view::npos) {
      pk_.pack_str(static_cast<uint32_t>(body.size()));
      pk_.pack_str_body(body.data(), static_cast<uint32_t>(body.size()));
      return true;
    }
    std::string text;
    socketio::json::unescape(body, text);
    pk_.pack_str(static_cast<uint32_t>(text.size()));
    pk_.pack_str_body(text.data(), static_cast<uint32_t>(text.size()));
    return true;
  }
  bool number() {
    std::size_t start = i_;
    while (i_ < s_.size() &&
           std::string_view("+-0123456789.eE").find(s_[i_]) != std::string_view::npos)
      ++i_;
    double v = 0;
    auto [p, ec] = std::from_chars(s_.data() + start, s_.data() + i_, v);
    if (ec != std::errc() || p != s_.data() + i_ || i_ == start) return false;
    // As JavaScript numbers are packed by notepack.io.
    if (std::isfinite(v) && std::floor(v) == v && v >= -9223372036854775808.0 &&
        v < 18446744073709551616.0) {
      if (v >= 0)
        pk_.pack_uint64(static_cast<uint64_t>(v));
      else
        pk_.pack_int64(static_cast<int64_t>(v));
    } else {
      pack_float64(v);
    }
    return true;
  }
  // msgpack's pack_double casts 2^64 (the double nearest 18446744073709551615)
  // to uint64_t, which is undefined (cluster_fuzz): what is not an integer in
  // range is written as float64 here, as pack_double would have written it.
  void pack_float64(double v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    char out[9];
    out[0] = static_cast<char>(0xcb);
    for (int k = 0; k < 8; ++k) out[1 + k] = static_cast<char>(bits >> (56 - 8 * k));
    pk_.pack_str_body(out, sizeof out);  // raw bytes: the body writer adds no header
  }
  // {"_placeholder":true,"num":N} with N an attachment index: that index.
  long placeholder_at(std::size_t pos) const {
    std::size_t save = i_;
    auto* self = const_cast<JsonPacker*>(this);
    self->i_ = pos;
    long found = -1;
    bool flag = false;
    long num = -1;
    if (self->eat('{') && !self->eat('}')) {
      do {
        self->ws();
        std::string_view key;
        if (!self->string_body(key) || !self->eat(':')) break;
        self->ws();
        std::size_t vstart = i_;
        if (!self->skip(1)) break;
        std::string_view val = s_.substr(vstart, i_ - vstart);
        if (key == "_placeholder") flag = val == "true";
        if (key == "num") {
          unsigned long n = 0;
          auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), n);
          if (ec == std::errc() && p == val.data() + val.size() && n < att_.size())
            num = static_cast<long>(n);
        }
      } while (self->eat(','));
      if (flag && num >= 0) found = num;
    }
    self->i_ = save;
    return found;
  }
  bool container(bool object, std::size_t depth) {
    std::size_t open = i_;
    if (!skip(depth)) return false;
    std::size_t end = i_;
    if (object) {
      if (long n = placeholder_at(open); n >= 0) {
        const std::string_view bin = att_[static_cast<std::size_t>(n)];
        pk_.pack_bin(static_cast<uint32_t>(bin.size()));
        pk_.pack_bin_body(bin.data(), static_cast<uint32_t>(bin.size()));
        return true;
      }
    }
    // Count the members, then pack them.
    i_ = open + 1;
    uint32_t count = 0;
    char close = object ? '}' : ']';
    if (!eat(close)) {
      do {
        if (object) {
          ws();
          if (!skip_string() || !eat(':')) return false;
        }
        if (!skip(depth + 1)) return false;
        ++count;
      } while (eat(','));
    }
    if (object)
      pk_.pack_map(count);
    else
      pk_.pack_array(count);
    i_ = open + 1;
    for (uint32_t k = 0; k < count; ++k) {
      if (k > 0) eat(',');
      if (object) {
        ws();
        if (!pack_string() || !eat(':')) return false;
      }
      if (!value(depth + 1)) return false;
    }
    i_ = end;
    return true;
  }
  bool value(std::size_t depth) {
    if (depth > kMaxNesting) return false;
    ws();
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{':
        return container(true, depth);
      case '[':
        return container(false, depth);
      case '"':
        return pack_string();
      case 't':
        if (!literal("true")) return false;
        pk_.pack_true();
        return true;
      case 'f':
        if (!literal("false")) return false;
        pk_.pack_false();
        return true;
      case 'n':
        if (!literal("null")) return false;
        pk_.pack_nil();
        return true;
      default:
        return number();
    }
  }

  Packer& pk_;
  std::string_view s_;
  std::span<const std::string_view> att_;
  std::size_t i_ = 0;
};

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";  // JSON.stringify
    return;
  }
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

void append_placeholder(std::string& out, std::vector<std::string>& attachments, const char* data,
                        std::size_t size) {
  out += "{\"_placeholder\":true,\"num\":";
  out += std::to_string(attachments.size());
  out += '}';
  attachments.emplace_back(data, size);
}

// notepack's Date: ext type 0, 8 bytes of milliseconds since the epoch.
void append_date(std::string& out, const char* p) {
  int64_t ms = 0;
  for (int i = 0; i < 8; ++i) ms = (ms << 8) | static_cast<unsigned char>(p[i]);
  std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  int millis = static_cast<int>(((ms % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  out += '"';
  out.append(buf, n);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", millis);
  out += frac;
  out += '"';
}

bool is_undefined(const msgpack::object& o) {
  return o.type == msgpack::type::EXT && o.via.ext.type() == 0 && o.via.ext.size == 1;
}

}  // namespace

bool pack_json(Packer& pk, std::string_view json, std::span<const std::string_view> attachments) {
  return JsonPacker(pk, json, attachments).run();
}

bool append_json(std::string& out, const msgpack::object& o, std::vector<std::string>& attachments,
                 std::size_t depth) {
  if (depth > kMaxNesting) return false;
  switch (o.type) {
    case msgpack::type::NIL:
      out += "null";
      return true;
    case msgpack::type::BOOLEAN:
      out += o.via.boolean ? "true" : "false";
      return true;
    case msgpack::type::POSITIVE_INTEGER:
      out += std::to_string(o.via.u64);
      return true;
    case msgpack::type::NEGATIVE_INTEGER:
      out += std::to_string(o.via.i64);
      return true;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      append_number(out, o.via.f64);
      return true;
    case msgpack::type::STR: {
      std::string_view s(o.via.str.ptr, o.via.str.size);
      if (!socketio::json::valid_utf8(s)) return false;
      socketio::json::append_string(out, s);
      return true;
    }
    case msgpack::type::BIN:
      append_placeholder(out, attachments, o.via.bin.ptr, o.via.bin.size);
      return true;
    case msgpack::type::EXT: {
      if (o.via.ext.type() != 0) return false;
      if (o.via.ext.size == 1) {
        out += "null";
        return true;
      }
      // fixext 8 (0xd7) is a Date, ext 8 of 8 bytes an ArrayBuffer: only the
      // header byte tells them apart (objects reference the received bytes).
      if (o.via.ext.size == 8 && o.via.ext.ptr[-1] == static_cast<char>(0xd7)) {
        append_date(out, o.via.ext.data());
        return true;
      }
      append_placeholder(out, attachments, o.via.ext.data(), o.via.ext.size);
      return true;
    }
    case msgpack::type::ARRAY: {
      out += '[';
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        if (i > 0) out += ',';
        if (!append_json(out, o.via.array.ptr[i], attachments, depth + 1)) return false;
      }
      out += ']';
      return true;
    }
    case msgpack::type::MAP: {
      out += '{';
      bool first = true;
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const msgpack::object_kv& kv = o.via.map.ptr[i];
        if (is_undefined(kv.val)) continue;  // JSON.stringify omits undefined members
        if (!first) out += ',';
        first = false;
        if (kv.key.type == msgpack::type::STR) {
          std::string_view k(kv.key.via.str.ptr, kv.key.via.str.size);
          if (!socketio::json::valid_utf8(k)) return false;
          socketio::json::append_string(out, k);
        } else if (kv.key.type == msgpack::type::POSITIVE_INTEGER) {
          out += '"' + std::to_string(kv.key.via.u64) + '"';
        } else if (kv.key.type == msgpack::type::NEGATIVE_INTEGER) {
          out += '"' + std::to_string(kv.key.via.i64) + '"';
        } else {
          return false;
        }
        out += ':';
        if (!append_json(out, kv.val, attachments, depth + 1)) return false;
      }
      out += '}';
      return true;
    }
  }
  return false;
}

msgpack::unpack_limit unpack_limits(std::size_t max_bytes) {
  auto n = static_cast<std::size_t>(max_bytes);
  return msgpack::unpack_limit(n, n, n, n, n, kMaxNesting);
}

}  // namespace daheim::cluster

namespace daheim::cluster {

namespace {

// Counts nesting; everything else is msgpack's own walk over the bytes.
struct CompletenessCheck : msgpack::null_visitor {
  std::size_t depth = 0;
  bool start_array(uint32_t) { return ++depth <= kMaxNesting; }
  bool end_array() { return --depth, true; }
  bool start_map(uint32_t) { return ++depth <= kMaxNesting; }
  bool end_map() { return --depth, true; }
};

}  // namespace

bool complete_msgpack(std::string_view bytes) {
  CompletenessCheck check;
  std::size_t off = 0;
  return msgpack::parse(bytes.data(), bytes.size(), off, check) && off == bytes.size();
}

msgpack::object_handle unpack_referencing(std::string_view bytes, std::size_t max_bytes) {
  if (!complete_msgpack(bytes))
    throw msgpack::parse_error("incomplete, too deeply nested or followed by more bytes");
  auto always = [](msgpack::type::object_type, std::size_t, void*) { return true; };
  std::size_t off = 0;
  msgpack::object_handle oh =
      msgpack::unpack(bytes.data(), bytes.size(), off, always, nullptr, unpack_limits(max_bytes));
  if (off != bytes.size()) throw msgpack::parse_error("trailing bytes");
  return oh;
}

}  // namespace daheim::cluster
