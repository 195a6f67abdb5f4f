// dhl::Json: a small JSON value for plugin code (header-only, C++20, no
// dependencies). Arguments arrive as Json, answers leave as Json. Binary
// Socket.IO attachments are a Json kind of their own (Binary): parse() turns
// {"_placeholder":true,"num":N} into the attachment's bytes and dump() turns
// them back into placeholders plus attachments.
//
//   dhl::Json v = dhl::Json::object({{"id", 7}, {"tags", dhl::Json::array({"a", "b"})}});
//   v["ready"] = true;
//   std::string text = v.dump();               // {"id":7,"tags":["a","b"],"ready":true}
//   auto parsed = dhl::Json::parse(text);      // std::optional<Json>
//   int64_t id = (*parsed)["id"].as_int();     // 7; missing members read as null
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace dhl {

class Json {
 public:
  enum class Type : uint8_t { Null, Bool, Int, Double, String, Binary, Array, Object };
  using Array = std::vector<Json>;
  using Member = std::pair<std::string, Json>;
  using Object = std::vector<Member>;  // insertion order, unique keys
  using Bytes = std::vector<uint8_t>;

  static constexpr std::size_t kMaxDepth = 256;

  Json() noexcept = default;
  Json(std::nullptr_t) noexcept {}
  Json(bool b) : v_(b) {}
  template <typename I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, char>) Json(I i)
      : v_(static_cast<int64_t>(i)) {}
  template <typename F>
  requires std::is_floating_point_v<F> Json(F d) : v_(static_cast<double>(d)) {}
  Json(const char* s) : v_(std::string(s)) {}
  Json(std::string s) : v_(std::move(s)) {}
  Json(std::string_view s) : v_(std::string(s)) {}
  Json(Array a) : v_(std::move(a)) {}
  Json(Object o) : v_(std::move(o)) {}
  Json(Bytes b) : v_(std::move(b)) {}

  static Json array(std::initializer_list<Json> items = {}) { return Json(Array(items)); }
  static Json object(std::initializer_list<Member> members = {}) {
    Json j{Object{}};
    for (const Member& m : members) j[m.first] = m.second;
    return j;
  }
  static Json binary(std::span<const uint8_t> bytes) {
    return Json(Bytes(bytes.begin(), bytes.end()));
  }

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::Null; }
  bool is_bool() const { return type() == Type::Bool; }
  bool is_number() const { return type() == Type::Int || type() == Type::Double; }
  bool is_int() const { return type() == Type::Int; }
  bool is_string() const { return type() == Type::String; }
  bool is_binary() const { return type() == Type::Binary; }
  bool is_array() const { return type() == Type::Array; }
  bool is_object() const { return type() == Type::Object; }

  // Lenient readers: the value, or `fallback` when the kind differs.
  bool as_bool(bool fallback = false) const { return is_bool() ? std::get<bool>(v_) : fallback; }
  int64_t as_int(int64_t fallback = 0) const {
    if (is_int()) return std::get<int64_t>(v_);
    if (type() == Type::Double) {
      double d = std::get<double>(v_);
      if (d >= -9.2e18 && d <= 9.2e18) return static_cast<int64_t>(d);
    }
    return fallback;
  }
  double as_double(double fallback = 0) const {
    if (is_int()) return static_cast<double>(std::get<int64_t>(v_));
    return type() == Type::Double ? std::get<double>(v_) : fallback;
  }
  std::string_view as_string(std::string_view fallback = {}) const {
    return is_string() ? std::string_view(std::get<std::string>(v_)) : fallback;
  }
  std::span<const uint8_t> as_binary() const {
    if (!is_binary()) return {};
    return std::get<Bytes>(v_);
  }

  // Containers (empty when the kind differs; the mutable ones convert a
  // null into an empty container first).
  const Array& items() const { return is_array() ? std::get<Array>(v_) : empty_array(); }
  const Object& members() const { return is_object() ? std::get<Object>(v_) : empty_object(); }
  Array& items() {
    if (is_null()) v_ = Array{};
    return std::get<Array>(v_);
  }
  Object& members() {
    if (is_null()) v_ = Object{};
    return std::get<Object>(v_);
  }
  std::size_t size() const {
    if (is_array()) return std::get<Array>(v_).size();
    if (is_object()) return std::get<Object>(v_).size();
    return 0;
  }

  // Element `i` / member `key`, or a null when absent.
  template <typename I>
  requires std::is_integral_v<I>
  const Json& operator[](I i) const {
    if constexpr (std::is_signed_v<I>)
      if (i < 0) return null_value();
    const Array& a = items();
    auto u = static_cast<std::size_t>(i);
    return u < a.size() ? a[u] : null_value();
  }
  // (Read-only on a mutable value too; change elements through items().)
  template <typename I>
  requires std::is_integral_v<I>
  const Json& operator[](I i) { return std::as_const(*this)[i]; }
  const Json& operator[](std::string_view key) const {
    const Json* v = find(key);
    return v ? *v : null_value();
  }
  const Json& operator[](const char* key) const { return (*this)[std::string_view(key)]; }
  // The member `key`, inserted as null if missing (a null becomes an object).
  Json& operator[](std::string_view key) {
    Object& o = members();
    for (Member& m : o)
      if (m.first == key) return m.second;
    o.emplace_back(std::string(key), Json());
    return o.back().second;
  }
  Json& operator[](const char* key) { return (*this)[std::string_view(key)]; }
  const Json* find(std::string_view key) const {
    for (const Member& m : members())
      if (m.first == key) return &m.second;
    return nullptr;
  }
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  void push_back(Json value) { items().push_back(std::move(value)); }

  friend bool operator==(const Json& a, const Json& b) {
    if (a.is_number() && b.is_number() && a.type() != b.type())
      return a.as_double() == b.as_double();
    return a.v_ == b.v_;
  }

  // Compact JSON text. Binary values become placeholders: with `attachments`
  // their bytes are appended there (num = index); without, only the
  // placeholders are written.
  std::string dump(std::vector<std::string>* attachments = nullptr) const {
    std::string out;
    dump_to(out, attachments);
    return out;
  }
  void dump_to(std::string& out, std::vector<std::string>* attachments = nullptr) const;

  // Parses exactly one JSON value (RFC 8259, UTF-8, whitespace around it).
  // Placeholders whose num indexes `attachments` become Binary values.
  // nullopt on any error; `error` (optional) then says where.
  static std::optional<Json> parse(std::string_view text,
                                   std::span<const std::string_view> attachments = {},
                                   std::string* error = nullptr);

 private:
  static const Json& null_value() {
    static const Json n;
    return n;
  }
  static const Array& empty_array() {
    static const Array a;
    return a;
  }
  static const Object& empty_object() {
    static const Object o;
    return o;
  }

  std::variant<std::monostate, bool, int64_t, double, std::string, Bytes, Array, Object> v_;

  friend class JsonParser;
};

namespace json_detail {

inline void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 15];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

inline void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  if (d == 0) {  // -0 too, as JavaScript writes it: "-0" would parse back as the integer 0
    out += '0';
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, r.ptr);
}

inline void append_utf8(std::string& out, uint32_t cp) {
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

// Length of the UTF-8 sequence at s[i] (0 if invalid: overlong, surrogate,
// above U+10FFFF, truncated).
inline std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;
    if (c == 0xED && b(1) > 0x9F) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

}  // namespace json_detail

inline void Json::dump_to(std::string& out, std::vector<std::string>* attachments) const {
  switch (type()) {
    case Type::Null:
      out += "null";
      return;
    case Type::Bool:
      out += std::get<bool>(v_) ? "true" : "false";
      return;
    case Type::Int:
      out += std::to_string(std::get<int64_t>(v_));
      return;
    case Type::Double:
      json_detail::append_double(out, std::get<double>(v_));
      return;
    case Type::String:
      json_detail::append_escaped(out, std::get<std::string>(v_));
      return;
    case Type::Binary: {
      std::size_t num = attachments ? attachments->size() : 0;
      if (attachments) {
        const Bytes& b = std::get<Bytes>(v_);
        attachments->emplace_back(reinterpret_cast<const char*>(b.data()), b.size());
      }
      out += "{\"_placeholder\":true,\"num\":" + std::to_string(num) + "}";
      return;
    }
    case Type::Array: {
      out += '[';
      bool first = true;
      for (const Json& item : std::get<Array>(v_)) {
        if (!first) out += ',';
        first = false;
        item.dump_to(out, attachments);
      }
      out += ']';
      return;
    }
    case Type::Object: {
      out += '{';
      bool first = true;
      for (const Member& m : std::get<Object>(v_)) {
        if (!first) out += ',';
        first = false;
        json_detail::append_escaped(out, m.first);
        out += ':';
        m.second.dump_to(out, attachments);
      }
      out += '}';
      return;
    }
  }
}

// Recursive-descent parser behind Json::parse.
class JsonParser {
 public:
  JsonParser(std::string_view text, std::span<const std::string_view> attachments)
      : s_(text), attachments_(attachments) {}

  std::optional<Json> run(std::string* error) {
    Json out;
    skip_ws();
    if (value(out, 0)) {
      skip_ws();
      if (i_ == s_.size()) return out;
      fail("trailing characters");
    }
    if (error) *error = what_ + " at offset " + std::to_string(i_);
    return std::nullopt;
  }

 private:
  bool fail(const char* what) {
    if (what_.empty()) what_ = what;
    return false;
  }
  bool eof() const { return i_ >= s_.size(); }
  char peek() const { return eof() ? '\0' : s_[i_]; }
  void skip_ws() {
    while (!eof() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return fail("invalid literal");
    i_ += word.size();
    return true;
  }

  bool value(Json& out, std::size_t depth) {
    if (depth >= Json::kMaxDepth) return fail("nested too deeply");
    switch (peek()) {
      case '{':
        return object(out, depth);
      case '[':
        return array(out, depth);
      case '"': {
        std::string str;
        if (!string(str)) return false;
        out.v_ = std::move(str);
        return true;
      }
      case 't':
        out.v_ = true;
        return literal("true");
      case 'f':
        out.v_ = false;
        return literal("false");
      case 'n':
        out.v_ = std::monostate{};
        return literal("null");
      default:
        return number(out);
    }
  }

  bool array(Json& out, std::size_t depth) {
    ++i_;
    Json::Array items;
    skip_ws();
    if (peek() == ']') {
      ++i_;
      out.v_ = std::move(items);
      return true;
    }
    for (;;) {
      skip_ws();
      items.emplace_back();
      if (!value(items.back(), depth + 1)) return false;
      skip_ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() != ']') return fail("expected , or ]");
      ++i_;
      out.v_ = std::move(items);
      return true;
    }
  }

  bool object(Json& out, std::size_t depth) {
    ++i_;
    Json::Object members;
    skip_ws();
    if (peek() == '}') {
      ++i_;
      out.v_ = std::move(members);
      return true;
    }
    for (;;) {
      skip_ws();
      std::string key;
      if (peek() != '"' || !string(key)) return fail("expected a member name");
      skip_ws();
      if (peek() != ':') return fail("expected :");
      ++i_;
      skip_ws();
      Json v;
      if (!value(v, depth + 1)) return false;
      members.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() != '}') return fail("expected , or }");
      ++i_;
      merge_duplicates(members);
      return finish_object(out, std::move(members));
    }
  }

  // A repeated key keeps its first position and its last value (as
  // JavaScript does). Linear in the member count: small objects compare
  // directly, larger ones through a hash index (quadratic scans of a 100k-key
  // object would stall the loop).
  static void merge_duplicates(Json::Object& members) {
    constexpr std::size_t kDirect = 16;
    if (members.size() < 2) return;
    std::vector<bool> dropped;
    if (members.size() <= kDirect) {
      for (std::size_t j = 1; j < members.size(); ++j)
        for (std::size_t i = 0; i < j; ++i)
          if (!(dropped.size() > i && dropped[i]) && members[i].first == members[j].first) {
            merge_into(members, dropped, i, j);
            break;
          }
    } else {
      std::unordered_map<std::string_view, std::size_t> first;
      first.reserve(members.size());
      for (std::size_t j = 0; j < members.size(); ++j) {
        auto [it, fresh] = first.try_emplace(members[j].first, j);
        if (!fresh) merge_into(members, dropped, it->second, j);
      }
    }
    if (dropped.empty()) return;
    std::size_t w = 0;
    for (std::size_t r = 0; r < members.size(); ++r)
      if (r >= dropped.size() || !dropped[r]) {
        if (w != r) members[w] = std::move(members[r]);
        ++w;
      }
    members.resize(w);
  }

  static void merge_into(Json::Object& members, std::vector<bool>& dropped, std::size_t keep,
                         std::size_t dup) {
    members[keep].second = std::move(members[dup].second);
    if (dropped.size() < members.size()) dropped.resize(members.size(), false);
    dropped[dup] = true;
  }

  bool finish_object(Json& out, Json::Object members) {
    Json obj(std::move(members));
    const Json* ph = obj.find("_placeholder");
    const Json* num = obj.find("num");
    if (ph && ph->as_bool() && num && num->is_int() && num->as_int() >= 0 &&
        static_cast<uint64_t>(num->as_int()) < attachments_.size()) {
      std::string_view bytes = attachments_[static_cast<std::size_t>(num->as_int())];
      out = Json::binary(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
      return true;
    }
    out = std::move(obj);
    return true;
  }

  bool hex4(uint32_t& cp) {
    if (i_ + 4 > s_.size()) return fail("truncated \\u escape");
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      cp <<= 4;
      if (c >= '0' && c <= '9')
        cp |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        cp |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        cp |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return fail("bad \\u escape");
    }
    return true;
  }

  // A \u escape (after the "\u"); lone surrogates become U+FFFD.
  bool unicode_escape(std::string& out) {
    uint32_t cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(i_, 2) == "\\u") {
      std::size_t save = i_;
      i_ += 2;
      uint32_t lo = 0;
      if (!hex4(lo)) return false;
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        json_detail::append_utf8(out, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
        return true;
      }
      i_ = save;
    }
    json_detail::append_utf8(out, (cp >= 0xD800 && cp <= 0xDFFF) ? 0xFFFD : cp);
    return true;
  }

  bool escape(std::string& out) {
    if (eof()) return fail("truncated escape");
    char c = s_[i_++];
    switch (c) {
      case '"':
        out += '"';
        return true;
      case '\\':
        out += '\\';
        return true;
      case '/':
        out += '/';
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        return unicode_escape(out);
      default:
        return fail("bad escape");
    }
  }

  bool string(std::string& out) {
    ++i_;  // the opening quote
    while (!eof()) {
      auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c == '\\') {
        ++i_;
        if (!escape(out)) return false;
        continue;
      }
      if (c < 0x20) return fail("control character in string");
      std::size_t n = json_detail::utf8_sequence(s_, i_);
      if (n == 0) return fail("invalid UTF-8");
      out.append(s_.substr(i_, n));
      i_ += n;
    }
    return fail("unterminated string");
  }

  bool digits() {
    std::size_t start = i_;
    while (!eof() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }

  bool number(Json& out) {
    std::size_t start = i_;
    if (peek() == '-') ++i_;
    if (peek() == '0') {
      ++i_;
    } else if (!digits()) {
      return fail("unexpected character");
    }
    bool integral = true;
    if (peek() == '.') {
      ++i_;
      integral = false;
      if (!digits()) return fail("bad number");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      integral = false;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!digits()) return fail("bad number");
    }
    const char* b = s_.data() + start;
    const char* e = s_.data() + i_;
    if (integral) {
      int64_t v = 0;
      auto r = std::from_chars(b, e, v);
      if (r.ec == std::errc() && r.ptr == e) {
        out.v_ = v;
        return true;
      }
    }
    double d = 0;
    auto r = std::from_chars(b, e, d);
    if (r.ptr != e) return fail("bad number");
    out.v_ = d;  // out of range: +-inf / 0 as from_chars gives it
    return true;
  }

  std::string_view s_;
  std::span<const std::string_view> attachments_;
  std::size_t i_ = 0;
  std::string what_;
};

inline std::optional<Json> Json::parse(std::string_view text,
                                       std::span<const std::string_view> attachments,
                                       std::string* error) {
  return JsonParser(text, attachments).run(error);
}

}  // namespace dhl
