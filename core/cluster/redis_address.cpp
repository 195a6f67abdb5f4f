#include "cluster/redis_address.hpp"

#include <charconv>

namespace daheim::cluster {
namespace {

bool parse_int(std::string_view s, int& out, int max) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0 && out <= max;
}

std::string parse_tcp(std::string_view rest, RedisAddress& out) {
  std::string_view hostport = rest.substr(0, rest.find('/'));
  std::string_view path = rest.substr(hostport.size());
  if (auto at = hostport.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = hostport.substr(0, at);
    if (auto colon = auth.find(':'); colon != std::string_view::npos) auth.remove_prefix(colon + 1);
    out.password = std::string(auth);
    hostport.remove_prefix(at + 1);
  }
  std::string_view host = hostport;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return "an IPv6 address lacks its ']'";
    out.host = std::string(host.substr(1, close - 1));
    host.remove_prefix(close + 1);
    if (!host.empty() && host.front() != ':') return "garbage after the IPv6 address";
    if (!host.empty()) host.remove_prefix(1);
    hostport = host;
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(host.substr(0, colon));
    hostport = host.substr(colon + 1);
  } else {
    out.host = std::string(host);
    hostport = {};
  }
  if (out.host.empty()) return "no host";
  if (!hostport.empty()) {
    int port = 0;
    if (!parse_int(hostport, port, 65535) || port == 0) return "bad port";
    out.port = static_cast<uint16_t>(port);
  }
  if (path.size() > 1 && !parse_int(path.substr(1), out.db, 1 << 20)) return "bad database number";
  return {};
}

}  // namespace

std::string RedisAddress::describe() const {
  if (is_unix()) return unix_path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string parse_redis_url(std::string_view url, RedisAddress& out) {
  out = RedisAddress{};
  if (url.starts_with("redis://")) return parse_tcp(url.substr(8), out);
  if (url.starts_with("unix://")) {
    std::string_view rest = url.substr(7);
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    if (rest.empty() || rest.front() != '/') return "a unix socket path must be absolute";
    out.unix_path = std::string(rest);
    if (!query.empty()) {
      if (!query.starts_with("db=") || !parse_int(query.substr(3), out.db, 1 << 20))
        return "the only query a unix URL takes is db=N";
    }
    return {};
  }
  return "expected redis://host[:port][/db] or unix:///path[?db=N]";
}

}  // namespace daheim::cluster
