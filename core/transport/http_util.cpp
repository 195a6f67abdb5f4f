#include "transport/http_util.hpp"

#include <libwebsockets.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "transport/http1_target.hpp"
#include "transport/uv_poll_rearm.hpp"

namespace daheim::transport {
namespace {

engineio::Method method_of(int lws_method) {
  switch (lws_method) {
    case LWSHUMETH_GET:
      return engineio::Method::Get;
    case LWSHUMETH_POST:
      return engineio::Method::Post;
    case LWSHUMETH_OPTIONS:
      return engineio::Method::Options;
    default:
      return engineio::Method::Other;
  }
}

// A NUL in a field value is invalid (RFC 9110 §5.5): replaced with SP, as the RFC allows, before
// anything reads it (found by tests/fuzz/http_fuzz when HeaderList still ended its strings with
// NUL).
std::string without_nul(std::string value) {
  std::replace(value.begin(), value.end(), '\0', ' ');
  return value;
}

// The method and path with one lookup (lws finds the method by trying each
// method token in turn).
void read_method_and_path(lws* wsi, HttpRequest& req) {
  char* uri = nullptr;
  int len = 0;
  int m = lws_http_get_uri_and_method(wsi, &uri, &len);
  req.method = method_of(m);
  if (m < 0 || !uri)
    req.path.clear();
  else
    req.path.assign(uri, static_cast<std::size_t>(len));
}

// `into` = the header's value, or nullopt when absent; the string is reused.
void read_header_into(lws* wsi, int token, std::optional<std::string>& into) {
  auto t = static_cast<lws_token_indexes>(token);
  int len = lws_hdr_total_length(wsi, t);
  if (len <= 0) {
    into.reset();
    return;
  }
  if (!into) into.emplace();
  into->resize(static_cast<std::size_t>(len) + 1);
  int n = lws_hdr_copy(wsi, into->data(), len + 1, t);
  if (n < 0) {
    into.reset();
    return;
  }
  into->resize(static_cast<std::size_t>(n));
  std::replace(into->begin(), into->end(), '\0', ' ');  // as without_nul
}

// The query arguments into `query`, reusing its entries.
void read_query(lws* wsi, std::size_t max_arg, std::vector<engineio::Header>& query) {
  std::size_t used = 0;
  // Sized to the arguments actually received (one fragment is at most all of them).
  int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
  if (total > 0) {
    // On the stack for the usual query (EIO, transport, sid, t).
    char small[256];
    std::string large;
    std::size_t size = std::min(static_cast<std::size_t>(total), max_arg) + 1;
    char* buf = small;
    if (size > sizeof small) {
      large.assign(size, '\0');
      buf = large.data();
    }
    if (query.capacity() < 4) query.reserve(4);
    for (int i = 0;; ++i) {
      int n = lws_hdr_copy_fragment(wsi, buf, static_cast<int>(size), WSI_TOKEN_HTTP_URI_ARGS, i);
      if (n < 0) break;
      if (used == query.size()) query.emplace_back();
      http1::split_argument(std::string_view(buf, static_cast<std::size_t>(n)), query[used++]);
    }
  }
  query.resize(used);
}

}  // namespace

const std::string* HttpRequest::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

void read_request(lws* wsi, std::size_t max_arg, HttpRequest& into) {
  read_method_and_path(wsi, into);
  read_query(wsi, max_arg, into.query);
  read_header_into(wsi, WSI_TOKEN_ORIGIN, into.origin);
}

HttpRequest read_request(lws* wsi, std::size_t max_arg) {
  HttpRequest req;
  read_request(wsi, max_arg, req);
  return req;
}

namespace {

// A header's value into `buf` when it fits: its length, -1 when absent, -2
// when longer than the buffer.
int copy_header(lws* wsi, int token, char* buf, int size) {
  auto t = static_cast<lws_token_indexes>(token);
  int len = lws_hdr_total_length(wsi, t);
  if (len <= 0) return -1;
  if (len >= size) return -2;
  return lws_hdr_copy(wsi, buf, size, t) < 0 ? -1 : len;
}

}  // namespace

bool header_equals(lws* wsi, int token, std::string_view value) {
  char buf[128];
  int n = copy_header(wsi, token, buf, sizeof buf);
  return n >= 0 && std::string_view(buf, static_cast<std::size_t>(n)) == value;
}

BodyLength request_body_length(lws* wsi, std::size_t max_body, std::size_t& length) {
  constexpr std::size_t kCap = std::size_t(1) << 40;  // above every limit; no overflow
  length = 0;
  // A value longer than the buffer is read whole (it is a digit string or invalid either way).
  char buf[48];
  int n = copy_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, buf, sizeof buf);
  std::optional<std::string> long_value;
  if (n == -2) long_value = read_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  std::optional<std::string_view> v;
  if (n >= 0) v = std::string_view(buf, static_cast<std::size_t>(n));
  if (long_value) v = *long_value;
  bool valid = v && !v->empty();
  for (std::size_t i = 0; valid && i < v->size(); ++i) {
    char c = (*v)[i];
    valid = c >= '0' && c <= '9';
    if (valid && length <= kCap) length = length * 10 + static_cast<std::size_t>(c - '0');
  }
  if (!valid) {
    length = 0;
    return read_header(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) ? BodyLength::LengthRequired
                                                              : BodyLength::Ok;
  }
  return length > max_body ? BodyLength::TooLarge : BodyLength::Ok;
}

std::optional<std::string> read_header(lws* wsi, int token) {
  auto t = static_cast<lws_token_indexes>(token);
  int len = lws_hdr_total_length(wsi, t);
  if (len <= 0) return std::nullopt;
  std::string value(static_cast<std::size_t>(len) + 1, '\0');
  int n = lws_hdr_copy(wsi, value.data(), len + 1, t);
  if (n < 0) return std::nullopt;
  value.resize(static_cast<std::size_t>(n));
  return without_nul(std::move(value));
}

std::optional<std::string> read_header_named(lws* wsi, std::string_view lower_name) {
  for (int t = 0; t < WSI_TOKEN_COUNT; ++t) {
    const char* name =
        reinterpret_cast<const char*>(lws_token_to_string(static_cast<lws_token_indexes>(t)));
    if (!name) continue;
    std::string_view n(name);
    if (n.size() != lower_name.size() + 1 || n.back() != ':') continue;
    bool same = true;
    for (std::size_t i = 0; i < lower_name.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(n[i])) == lower_name[i];
    if (same) return read_header(wsi, t);
  }
  std::string custom(lower_name);
  custom += ':';
  int len = lws_hdr_custom_length(wsi, custom.c_str(), static_cast<int>(custom.size()));
  if (len <= 0) return std::nullopt;
  std::string value(static_cast<std::size_t>(len) + 1, '\0');
  if (lws_hdr_custom_copy(wsi, value.data(), len + 1, custom.c_str(),
                          static_cast<int>(custom.size())) < 0)
    return std::nullopt;
  value.resize(static_cast<std::size_t>(len));
  return without_nul(std::move(value));
}

engineio::HeaderList read_headers(lws* wsi, const engineio::HeaderFilter& keep) {
  engineio::HeaderList out;
  for (int t = 0; t < WSI_TOKEN_COUNT; ++t) {
    const char* name =
        reinterpret_cast<const char*>(lws_token_to_string(static_cast<lws_token_indexes>(t)));
    if (!name) continue;
    std::size_t n = std::strlen(name);
    if (n < 2 || name[n - 1] != ':' || name[0] == ':') continue;
    std::string lower(name, n - 1);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!keep.keeps(lower)) continue;
    auto value = read_header(wsi, t);
    if (!value) continue;
    out.add(lower, *value);
  }
  out.shrink();
  return out;
}

std::string peer_address(lws* wsi) {
  char buf[64] = {0};
  const char* p = lws_get_peer_simple(wsi, buf, sizeof buf);
  return p ? std::string(p) : std::string();
}

std::string request_url(const HttpRequest& req) {
  std::string url = req.path;
  char sep = '?';
  for (const auto& [k, v] : req.query) {
    url += sep;
    url += k;
    url += '=';
    url += v;
    sep = '&';
  }
  return url;
}

namespace {

// `text` + `suffix` as a C string: on the stack when short, else on the heap.
class CString {
 public:
  CString(std::string_view text, std::string_view suffix) {
    std::size_t n = text.size() + suffix.size();
    char* out = small_;
    if (n >= sizeof small_) {
      large_.resize(n);
      out = large_.data();
    }
    if (!text.empty()) std::memcpy(out, text.data(), text.size());
    if (!suffix.empty()) std::memcpy(out + text.size(), suffix.data(), suffix.size());
    out[n] = '\0';
    text_ = out;
  }
  const char* get() const { return text_; }

 private:
  char small_[128];
  std::string large_;
  const char* text_;
};

// lws closes the connection after the response when the request asked for it;
// say so, or keep-alive clients reuse a socket that is about to close.
bool request_wants_close(lws* wsi) {
  char buf[64];
  int n = copy_header(wsi, WSI_TOKEN_CONNECTION, buf, sizeof buf);
  std::string long_value;
  std::string_view v;
  if (n == -2) {
    long_value = read_header(wsi, WSI_TOKEN_CONNECTION).value_or(std::string());
    v = long_value;
  } else if (n >= 0) {
    v = std::string_view(buf, static_cast<std::size_t>(n));
  }
  for (std::size_t i = 0; i + 5 <= v.size(); ++i) {
    bool match = true;
    for (std::size_t j = 0; j < 5 && match; ++j)
      match = std::tolower(static_cast<unsigned char>(v[i + j])) == "close"[j];
    if (match) return true;
  }
  return false;
}

// Whether the request line said HTTP/1.1 (lws answers in the request's
// version; HTTP/1.0 and HTTP/2 requests take lws's own status line).
bool request_is_http11(lws* wsi) {
  char buf[16];
  int n = copy_header(wsi, WSI_TOKEN_HTTP, buf, sizeof buf);
  return n == 8 && std::string_view(buf, 8) == "HTTP/1.1";
}

void append(unsigned char*& p, std::string_view text) {
  std::memcpy(p, text.data(), text.size());
  p += text.size();
}

// The status line, Content-Type and Content-Length, byte for byte what
// lws_add_http_common_headers writes, without its two snprintf calls: for
// the steady path's answers (200 to an HTTP/1.1 request), else lws's own.
int add_common_headers(lws* wsi, unsigned status, std::string_view content_type, std::size_t length,
                       unsigned char*& p, unsigned char* end) {
  if (status != 200 || !request_is_http11(wsi)) {
    CString ctype(content_type, "");
    return lws_add_http_common_headers(wsi, status, content_type.empty() ? nullptr : ctype.get(),
                                       length, &p, end);
  }
  char digits[24];
  auto [last, ec] = std::to_chars(digits, digits + sizeof digits, length);
  std::string_view len(digits, static_cast<std::size_t>(last - digits));
  if (ec != std::errc() || static_cast<std::size_t>(end - p) < 64 + content_type.size()) return 1;
  append(p, "HTTP/1.1 200 OK\r\n");
  if (!content_type.empty()) {
    append(p, "content-type: ");
    append(p, content_type);
    append(p, "\r\n");
  }
  append(p, "content-length: ");
  append(p, len);
  append(p, "\r\n");
  return 0;
}

}  // namespace

// lws_http_transaction_completed() asks for POLLOUT before it reads the next
// request of a keep-alive connection, and writes nothing when it comes. With
// all of the answer taken by the kernel, a plain socket is writable: on libuv
// the event is delivered at the end of the turn without an epoll change.
namespace {

int complete_transaction(lws* wsi) {
  if (lws_partial_buffered(wsi) || lws_is_ssl(wsi)) return lws_http_transaction_completed(wsi);
  uv_rearm::KnownWritable known(lws_get_socket_fd(wsi));
  return lws_http_transaction_completed(wsi);
}

}  // namespace

int send_response(lws* wsi, unsigned status, std::string_view content_type, std::string_view body,
                  const std::vector<engineio::Header>& extra, bool close_after) {
  bool say_close = close_after || request_wants_close(wsi);
  std::size_t header_space = 512 + content_type.size();
  for (const auto& [k, v] : extra) header_space += k.size() + v.size() + 4;
  // Grown to the largest answer, never shrunk past kKeep.
  constexpr std::size_t kKeep = 64 * 1024;
  thread_local std::vector<unsigned char> buf;
  std::size_t need = LWS_PRE + header_space + body.size();
  if (buf.size() < need) buf.resize(need);
  unsigned char* start = buf.data() + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buf.data() + need;
  if (add_common_headers(wsi, status, content_type, body.size(), p, end)) return -1;
  for (const auto& [k, v] : extra) {
    CString name(k, ":");
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name.get()),
                                    reinterpret_cast<const unsigned char*>(v.data()),
                                    static_cast<int>(v.size()), &p, end))
      return -1;
  }
  if (say_close) {
    static const char kClose[] = "close";
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                     reinterpret_cast<const unsigned char*>(kClose), 5, &p, end))
      return -1;
  }
  if (lws_finalize_http_header(wsi, &p, end)) return -1;
  if (!body.empty()) std::memcpy(p, body.data(), body.size());  // data() may be null
  p += body.size();
  int written = lws_write(wsi, start, static_cast<std::size_t>(p - start), LWS_WRITE_HTTP_FINAL);
  if (buf.size() > kKeep) std::vector<unsigned char>().swap(buf);
  if (written < 0) return -1;
  if (close_after) return -1;
  return complete_transaction(wsi) ? -1 : 0;
}

}  // namespace daheim::transport
