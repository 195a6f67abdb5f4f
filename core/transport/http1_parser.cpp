#include "transport/http1_parser.hpp"

#include <array>
#include <cstring>

namespace daheim::transport::http1 {
namespace {

constexpr std::size_t kLengthCap = std::size_t{1} << 40;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// RFC 9110 tchar, as a table: looked up for every byte of every name.
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<unsigned char>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<unsigned char>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<unsigned char>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool is_token_char(char c) {
  return kTokenChars[static_cast<unsigned char>(c)];
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  return v;
}

engineio::Method method_of(std::string_view m) {
  if (m == "GET") return engineio::Method::Get;
  if (m == "POST") return engineio::Method::Post;
  if (m == "OPTIONS") return engineio::Method::Options;
  return engineio::Method::Other;
}

// One line of the head, without its CRLF; false on a bare LF or a CR
// anywhere else in it.
bool next_line(std::string_view head, std::size_t& pos, std::string_view& line) {
  std::size_t lf = head.find('\n', pos);
  if (lf == std::string_view::npos || lf == pos || head[lf - 1] != '\r') return false;
  line = head.substr(pos, lf - 1 - pos);
  pos = lf + 1;
  return line.find('\r') == std::string_view::npos;
}

ParseError parse_request_line(std::string_view line, Request& out) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return ParseError::BadRequestLine;
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return ParseError::BadRequestLine;
  out.method_name = line.substr(0, sp1);
  for (char c : out.method_name)
    if (!is_token_char(c)) return ParseError::BadRequestLine;
  out.method = method_of(out.method_name);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (char c : out.target)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return ParseError::BadRequestLine;
  if (out.target.front() != '/') return ParseError::BadRequestLine;
  std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1.") return ParseError::BadVersion;
  if (version[7] != '0' && version[7] != '1') return ParseError::BadVersion;
  out.minor = version[7] - '0';
  std::size_t q = out.target.find('?');
  out.path = out.target.substr(0, q);
  out.query = q == std::string_view::npos ? std::string_view() : out.target.substr(q + 1);
  return ParseError::None;
}

ParseError read_length(std::string_view value, Request& out) {
  if (value.empty()) return ParseError::BadContentLength;
  std::size_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return ParseError::BadContentLength;
    n = n * 10 + static_cast<std::size_t>(c - '0');
    if (n > kLengthCap) return ParseError::BadContentLength;
  }
  if (out.has_length && n != out.content_length) return ParseError::BadContentLength;
  out.has_length = true;
  out.content_length = n;
  return ParseError::None;
}

// The headers that decide framing and the connection's fate.
ParseError note_header(const Header& h, Request& out) {
  if (equals_lower(h.name, "content-length")) return read_length(h.value, out);
  if (equals_lower(h.name, "transfer-encoding")) {
    out.transfer_encoding = true;
  } else if (equals_lower(h.name, "connection")) {
    if (has_token(h.value, "close")) out.close = out.close_asked = true;
    // lws keeps an HTTP/1.0 connection only for exactly this value.
    if (equals_lower(h.value, "keep-alive")) out.keep_alive_asked = true;
    if (has_token(h.value, "upgrade")) out.upgrade = true;
  } else if (equals_lower(h.name, "upgrade")) {
    out.upgrade = true;
  }
  return ParseError::None;
}

ParseError parse_header(std::string_view line, Request& out) {
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return ParseError::BadHeader;
  std::string_view name = line.substr(0, colon);
  for (char c : name)
    if (!is_token_char(c)) return ParseError::BadHeader;  // also whitespace before the colon
  if (out.header_count == Request::kMaxHeaders) return ParseError::TooManyHeaders;
  std::string_view value = line.substr(colon + 1);
  if (std::memchr(value.data(), 0, value.size()) != nullptr) return ParseError::BadHeader;
  Header& h = out.headers[out.header_count++];
  h = {name, trim(line.substr(colon + 1))};
  return note_header(h, out);
}

}  // namespace

std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::None:
      return "none";
    case ParseError::HeadTooLarge:
      return "head too large";
    case ParseError::BadRequestLine:
      return "bad request line";
    case ParseError::BadVersion:
      return "bad version";
    case ParseError::BadHeader:
      return "bad header";
    case ParseError::TooManyHeaders:
      return "too many headers";
    case ParseError::BadContentLength:
      return "bad content-length";
  }
  return "?";
}

bool equals_lower(std::string_view text, std::string_view lower_text) {
  if (text.size() != lower_text.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (lower(text[i]) != lower_text[i]) return false;
  return true;
}

bool has_token(std::string_view value, std::string_view lower_token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    if (equals_lower(trim(value.substr(0, comma)), lower_token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

const std::string_view* Request::header(std::string_view lower_name) const {
  for (std::size_t i = 0; i < header_count; ++i)
    if (equals_lower(headers[i].name, lower_name)) return &headers[i].value;
  return nullptr;
}

std::size_t find_head_end(std::string_view buf, std::size_t& from) {
  // A request may begin with empty lines (RFC 9112 §2.2): they are part of
  // no head, and parse_head refuses them, so only LF LF / LF CR LF count.
  while (from < buf.size()) {
    const void* hit = std::memchr(buf.data() + from, '\n', buf.size() - from);
    if (!hit) {
      from = buf.size();
      return 0;
    }
    std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(hit) - buf.data());
    if (lf + 1 >= buf.size()) {
      from = lf;  // look at this LF again when more comes
      return 0;
    }
    if (buf[lf + 1] == '\n') return lf + 2;
    if (buf[lf + 1] == '\r') {
      if (lf + 2 >= buf.size()) {
        from = lf;
        return 0;
      }
      if (buf[lf + 2] == '\n') return lf + 3;
    }
    from = lf + 1;
  }
  return 0;
}

ParseError parse_head(std::string_view buf, std::size_t head_end, Request& out) {
  // Field by field: the header array (64 views) is left as it is, only its
  // count starts again.
  out.method = engineio::Method::Other;
  out.method_name = out.target = out.path = out.query = {};
  out.minor = 1;
  out.has_length = out.transfer_encoding = out.close = out.close_asked = false;
  out.keep_alive_asked = out.upgrade = false;
  out.content_length = 0;
  out.header_count = 0;
  std::string_view head = buf.substr(0, head_end);
  out.head_size = head_end;
  std::size_t pos = 0;
  std::string_view line;
  if (!next_line(head, pos, line)) return ParseError::BadRequestLine;
  if (ParseError e = parse_request_line(line, out); e != ParseError::None) return e;
  for (;;) {
    if (!next_line(head, pos, line)) return ParseError::BadHeader;
    if (line.empty()) break;
    if (is_space(line.front())) return ParseError::BadHeader;  // obs-fold
    if (ParseError e = parse_header(line, out); e != ParseError::None) return e;
  }
  if (pos != head_end) return ParseError::BadHeader;
  if (out.minor == 0 && !out.keep_alive_asked) out.close = true;
  return ParseError::None;
}

}  // namespace daheim::transport::http1
