// Where a Redis server listens and how to log in, parsed from the config's
// URL: redis://[:password@]host[:port][/db] or unix:///path/to.sock[?db=N].
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace daheim::cluster {

struct RedisAddress {
  std::string host;  // TCP: a numeric address or a name resolved at start
  uint16_t port = 6379;
  std::string unix_path;  // set: a unix socket, host/port unused
  int db = 0;
  std::string password;  // empty: no AUTH

  bool is_unix() const { return !unix_path.empty(); }
  // host:port or the socket path, for logs (never the password).
  std::string describe() const;
};

// Empty on success, else what is wrong with `url`.
std::string parse_redis_url(std::string_view url, RedisAddress& out);

}  // namespace daheim::cluster
