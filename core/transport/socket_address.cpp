#include "transport/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <string>

namespace daheim::transport {

bool to_socket_address(std::string_view host, int port, sockaddr_storage& out, socklen_t& len) {
  out = {};
  len = 0;
  if (port < 0 || port > 65535) return false;
  std::string text(host);  // inet_pton needs the terminating NUL
  auto* a4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, text.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *a4;
    return true;
  }
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, text.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *a6;
    return true;
  }
  out = {};
  return false;
}

bool parse_socket_address(std::string_view address, sockaddr_storage& out, socklen_t& len) {
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = address.substr(0, colon);
  std::string_view port_text = address.substr(colon + 1);
  int port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0)
    return false;
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  // IPv6 only in brackets (else "::1:3001" would be ambiguous), IPv4 never.
  if (bracketed != (host.find(':') != std::string_view::npos)) return false;
  return to_socket_address(host, port, out, len);
}

bool is_ip_address(std::string_view host) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  return to_socket_address(host, 0, addr, len);
}

}  // namespace daheim::transport
