// Numeric socket addresses: a host (IPv4 or IPv6 text) and a port turned
// into a sockaddr, for the sockets the server opens itself (listeners,
// connections to other nodes). No name resolution.
#pragma once

#include <sys/socket.h>

#include <string_view>

namespace daheim::transport {

// `host` an IPv4 address ("127.0.0.1") or an IPv6 one without brackets
// ("::1"), `port` 0..65535. false (and `out` zeroed): not one of those.
bool to_socket_address(std::string_view host, int port, sockaddr_storage& out, socklen_t& len);

// "127.0.0.1:3001" or "[::1]:3001", port 1..65535 (numeric only: an IPv6
// host in brackets, an IPv4 one without). false: not an address.
bool parse_socket_address(std::string_view address, sockaddr_storage& out, socklen_t& len);

// Whether `host` is an IP address (to_socket_address takes it).
bool is_ip_address(std::string_view host);

}  // namespace daheim::transport
