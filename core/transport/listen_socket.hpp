// A listening TCP socket the server opens itself (and closes when it
// drains), instead of lws's: lws 4.1 has no public way to close its own
// listening socket while the context serves on.
#pragma once

#include <string>

namespace daheim::transport {

struct ListenSocketOptions {
  bool reuse_port = false;  // workers: one socket each in the port's SO_REUSEPORT group
  bool v6_only = false;     // IPv6: IPV6_V6ONLY (else "::" also takes IPv4, as lws binds it)
};

// A non-blocking socket listening on `host` (an IPv4 or IPv6 address,
// without brackets) and `port` (0: a free one, read it with getsockname).
// -1 with errno set when it cannot; EINVAL when `host` is no IP address.
int open_listen_socket(const std::string& host, int port, ListenSocketOptions options);

}  // namespace daheim::transport
