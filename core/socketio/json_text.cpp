#include "socketio/json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#include "engineio/hex_digit.hpp"

namespace daheim::socketio::json {
namespace {

constexpr bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

using engineio::hex_value;

// Reads four hex digits; -1 if they are not.
long hex4(std::string_view s) {
  if (s.size() < 4) return -1;
  long v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    int d = hex_value(s[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// The kind of value a first character announces (Number for anything else;
// number() then rejects what is not one).
Kind kind_at(char c) {
  switch (c) {
    case '{':
      return Kind::Object;
    case '[':
      return Kind::Array;
    case '"':
      return Kind::String;
    case 't':
      return Kind::True;
    case 'f':
      return Kind::False;
    case 'n':
      return Kind::Null;
    default:
      return Kind::Number;
  }
}

enum class MemberKey : uint8_t { Other, Placeholder, Num };

MemberKey classify_key(std::string_view raw) {
  std::string_view key = raw;
  std::string decoded;
  if (raw.find('\\') != std::string_view::npos) {
    if (raw.size() > 96) return MemberKey::Other;
    unescape(raw, decoded);
    key = decoded;
  }
  if (key == "_placeholder") return MemberKey::Placeholder;
  if (key == "num") return MemberKey::Num;
  return MemberKey::Other;
}

// A recursive-descent validator; one call per nesting level, bounded by
// kMaxDepth.
class Scanner {
 public:
  Scanner(std::string_view text, bool placeholders, std::size_t attachments)
      : s_(text), placeholders_(placeholders), attachments_(attachments) {}

  ScanError run(Shape& shape) {
    skip_ws();
    shape.begin = pos_;
    if (at('[')) {
      shape.kind = array(1, &shape) ? Kind::Array : Kind::None;
    } else {
      shape.kind = value(0);
    }
    if (shape.kind == Kind::None) return error_ == ScanError::None ? ScanError::Syntax : error_;
    shape.end = pos_;
    skip_ws();
    return pos_ == s_.size() ? ScanError::None : ScanError::Syntax;
  }

 private:
  void skip_ws() {
    while (pos_ < s_.size() && is_ws(s_[pos_])) ++pos_;
  }
  bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool fail(ScanError e) {
    if (error_ == ScanError::None) error_ = e;
    return false;
  }

  Kind value(std::size_t depth);
  bool object(std::size_t depth);
  bool array(std::size_t depth, Shape* top);
  bool string();
  bool number();
  bool digits();
  bool literal(std::string_view word);
  void note_member(MemberKey key, Kind kind, bool& is_placeholder, bool& num_ok) const;

  std::string_view s_;
  std::size_t pos_ = 0;
  bool placeholders_;
  std::size_t attachments_;
  ScanError error_ = ScanError::None;
  std::size_t last_begin_ = 0;  // span of the value() just scanned
  std::size_t last_end_ = 0;
};

Kind Scanner::value(std::size_t depth) {
  skip_ws();
  if (pos_ >= s_.size()) {
    fail(ScanError::Syntax);
    return Kind::None;
  }
  std::size_t begin = pos_;
  Kind kind = kind_at(s_[pos_]);
  bool ok = false;
  switch (kind) {
    case Kind::Object:
      ok = object(depth + 1);
      break;
    case Kind::Array:
      ok = array(depth + 1, nullptr);
      break;
    case Kind::String:
      ok = string();
      break;
    case Kind::True:
      ok = literal("true");
      break;
    case Kind::False:
      ok = literal("false");
      break;
    case Kind::Null:
      ok = literal("null");
      break;
    case Kind::Number:
      ok = number();
      break;
    case Kind::None:
      break;
  }
  if (!ok) return Kind::None;
  last_begin_ = begin;
  last_end_ = pos_;
  return kind;
}

bool Scanner::object(std::size_t depth) {
  if (depth > kMaxDepth) return fail(ScanError::TooDeep);
  ++pos_;
  skip_ws();
  if (at('}')) {
    ++pos_;
    return true;
  }
  bool is_placeholder = false;
  bool num_ok = false;
  while (true) {
    skip_ws();
    if (!at('"')) return fail(ScanError::Syntax);
    std::size_t key_begin = pos_ + 1;
    if (!string()) return false;
    std::string_view key = s_.substr(key_begin, pos_ - 1 - key_begin);
    skip_ws();
    if (!at(':')) return fail(ScanError::Syntax);
    ++pos_;
    Kind kind = value(depth);
    if (kind == Kind::None) return false;
    if (placeholders_) note_member(classify_key(key), kind, is_placeholder, num_ok);
    skip_ws();
    if (at(',')) {
      ++pos_;
      continue;
    }
    if (!at('}')) return fail(ScanError::Syntax);
    ++pos_;
    break;
  }
  if (is_placeholder && !num_ok) return fail(ScanError::Placeholder);
  return true;
}

void Scanner::note_member(MemberKey key, Kind kind, bool& is_placeholder, bool& num_ok) const {
  if (key == MemberKey::Placeholder) {
    is_placeholder = kind == Kind::True;
  } else if (key == MemberKey::Num) {
    double v = -1;
    const char* first = s_.data() + last_begin_;
    auto [ptr, ec] = std::from_chars(first, s_.data() + last_end_, v);
    num_ok = kind == Kind::Number && ec == std::errc() && v >= 0 &&
             v < static_cast<double>(attachments_) && std::floor(v) == v;
  }
}

bool Scanner::array(std::size_t depth, Shape* top) {
  if (depth > kMaxDepth) return fail(ScanError::TooDeep);
  ++pos_;
  skip_ws();
  if (at(']')) {
    if (top) top->rest = pos_;
    ++pos_;
    return true;
  }
  for (std::size_t i = 0;; ++i) {
    Kind kind = value(depth);
    if (kind == Kind::None) return false;
    if (top && i == 0) {
      top->first = kind;
      top->first_begin = last_begin_;
      top->first_end = last_end_;
    }
    skip_ws();
    bool comma = at(',');
    if (!comma && !at(']')) return fail(ScanError::Syntax);
    ++pos_;
    if (top && i == 0) top->rest = comma ? pos_ : pos_ - 1;
    if (!comma) return true;
  }
}

bool Scanner::string() {
  ++pos_;
  while (pos_ < s_.size()) {
    auto c = static_cast<unsigned char>(s_[pos_]);
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c < 0x20) return fail(ScanError::Syntax);
    if (c != '\\') {
      ++pos_;
      continue;
    }
    if (pos_ + 1 >= s_.size()) break;
    char e = s_[pos_ + 1];
    if (e == 'u') {
      if (hex4(s_.substr(pos_ + 2)) < 0) return fail(ScanError::Syntax);
      pos_ += 6;
    } else if (std::strchr("\"\\/bfnrt", e) != nullptr && e != '\0') {
      pos_ += 2;
    } else {
      return fail(ScanError::Syntax);
    }
  }
  return fail(ScanError::Syntax);
}

bool Scanner::digits() {
  std::size_t start = pos_;
  while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
  return pos_ > start || fail(ScanError::Syntax);
}

bool Scanner::number() {
  if (at('-')) ++pos_;
  if (at('0')) {
    ++pos_;
  } else if (pos_ >= s_.size() || !is_digit(s_[pos_]) || !digits()) {
    return fail(ScanError::Syntax);
  }
  if (at('.')) {
    ++pos_;
    if (!digits()) return false;
  }
  if (at('e') || at('E')) {
    ++pos_;
    if (at('+') || at('-')) ++pos_;
    if (!digits()) return false;
  }
  return true;
}

bool Scanner::literal(std::string_view word) {
  if (s_.substr(pos_, word.size()) != word) return fail(ScanError::Syntax);
  pos_ += word.size();
  return true;
}

// Length of the UTF-8 sequence starting at s[i] if it is valid, else 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  auto cont = [&](std::size_t k) { return (byte(k) & 0xC0u) == 0x80u; };
  unsigned c = byte(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
    unsigned hi = c == 0xED ? 0x9F : 0xBF;
    return byte(1) >= lo && byte(1) <= hi && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80;
    unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
    return byte(1) >= lo && byte(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the \u escape at body[i] (and a following low surrogate); returns
// the number of bytes consumed.
std::size_t unescape_unicode(std::string_view body, std::size_t i, std::string& out) {
  long hi = hex4(body.substr(i + 2));
  if (hi < 0) return 2;  // not reached for scanned text
  if (hi >= 0xD800 && hi <= 0xDBFF && body.substr(i + 6, 2) == "\\u") {
    long lo = hex4(body.substr(i + 8));
    if (lo >= 0xDC00 && lo <= 0xDFFF) {
      append_utf8(out, 0x10000 + ((static_cast<uint32_t>(hi) - 0xD800) << 10) +
                           (static_cast<uint32_t>(lo) - 0xDC00));
      return 12;
    }
  }
  bool surrogate = hi >= 0xD800 && hi <= 0xDFFF;
  append_utf8(out, surrogate ? 0xFFFD : static_cast<uint32_t>(hi));
  return 6;
}

char short_escape(char e) {
  switch (e) {
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    default:
      return e;  // " \ /
  }
}

}  // namespace

ScanError scan(std::string_view text, Shape& shape, bool check_placeholders,
               std::size_t attachments) {
  shape = Shape{};
  return Scanner(text, check_placeholders, attachments).run(shape);
}

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + 8 <= text.size()) {
      uint64_t block;
      std::memcpy(&block, text.data() + i, 8);
      if ((block & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = utf8_sequence(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_string(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(value.substr(run, i - run));
    run = i + 1;
    out += '\\';
    switch (c) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '\b':
        out += 'b';
        break;
      case '\f':
        out += 'f';
        break;
      case '\n':
        out += 'n';
        break;
      case '\r':
        out += 'r';
        break;
      case '\t':
        out += 't';
        break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
        break;
    }
  }
  out.append(value.substr(run));
  out += '"';
}

void unescape(std::string_view body, std::string& out) {
  out.clear();
  out.reserve(body.size());
  std::size_t i = 0;
  while (i < body.size()) {
    std::size_t slash = body.find('\\', i);
    out.append(body.substr(i, slash == std::string_view::npos ? slash : slash - i));
    if (slash == std::string_view::npos || slash + 1 >= body.size()) return;
    if (body[slash + 1] == 'u') {
      i = slash + unescape_unicode(body, slash, out);
    } else {
      out += short_escape(body[slash + 1]);
      i = slash + 2;
    }
  }
}

namespace {

// Past the string literal whose opening quote is at `i`.
std::size_t string_end(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return s.size();
}

// Past the (valid) value that starts at `i`.
std::size_t value_end(std::string_view s, std::size_t i) {
  if (i >= s.size()) return s.size();
  if (s[i] == '"') return string_end(s, i);
  if (s[i] != '{' && s[i] != '[') {
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i])) ++i;
    return i;
  }
  std::size_t depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      i = string_end(s, i);
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return i + 1;
    ++i;
  }
  return s.size();
}

std::size_t skip(std::string_view s, std::size_t i) {
  while (i < s.size() && is_ws(s[i])) ++i;
  return i;
}

}  // namespace

std::optional<std::string> string_member(std::string_view object, std::string_view key) {
  std::size_t i = skip(object, 0);
  if (i >= object.size() || object[i] != '{') return std::nullopt;
  i = skip(object, i + 1);
  std::string name;
  std::optional<std::string> found;  // the last one wins, as with JSON.parse
  while (i < object.size() && object[i] == '"') {
    std::size_t key_end = string_end(object, i);
    name.clear();
    unescape(object.substr(i + 1, key_end - i - 2), name);
    i = skip(object, key_end);
    if (i >= object.size() || object[i] != ':') return std::nullopt;
    i = skip(object, i + 1);
    std::size_t end = value_end(object, i);
    if (name == key) {
      found.reset();
      if (object[i] == '"' && end - i >= 2) {
        found.emplace();
        unescape(object.substr(i + 1, end - i - 2), *found);
      }
    }
    i = skip(object, end);
    if (i < object.size() && object[i] == ',') i = skip(object, i + 1);
  }
  return found;
}

std::optional<std::string> last_string_element(std::string_view array) {
  std::size_t i = skip(array, 0);
  if (i >= array.size() || array[i] != '[') return std::nullopt;
  i = skip(array, i + 1);
  std::size_t last = std::string_view::npos;
  std::size_t last_end = 0;
  while (i < array.size() && array[i] != ']') {
    last = i;
    last_end = value_end(array, i);
    i = skip(array, last_end);
    if (i < array.size() && array[i] == ',') i = skip(array, i + 1);
  }
  if (last == std::string_view::npos || array[last] != '"' || last_end - last < 2)
    return std::nullopt;
  std::string out;
  unescape(array.substr(last + 1, last_end - last - 2), out);
  return out;
}

}  // namespace daheim::socketio::json
