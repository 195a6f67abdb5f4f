// The numeric socket addresses the listeners and the node-to-node
// connections are opened with: the exact sockaddr bytes.
#include "transport/socket_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

namespace daheim::transport {
namespace {

const sockaddr_in& v4(const sockaddr_storage& a) {
  return reinterpret_cast<const sockaddr_in&>(a);
}
const sockaddr_in6& v6(const sockaddr_storage& a) {
  return reinterpret_cast<const sockaddr_in6&>(a);
}

TEST(SocketAddress, IPv4HostAndPort) {
  sockaddr_storage a{};
  socklen_t len = 0;
  ASSERT_TRUE(to_socket_address("127.0.0.1", 3001, a, len));
  EXPECT_EQ(len, sizeof(sockaddr_in));
  EXPECT_EQ(v4(a).sin_family, AF_INET);
  EXPECT_EQ(v4(a).sin_port, htons(3001));
  EXPECT_EQ(v4(a).sin_addr.s_addr, htonl(0x7f000001));
  ASSERT_TRUE(to_socket_address("0.0.0.0", 0, a, len));
  EXPECT_EQ(v4(a).sin_port, 0);
  EXPECT_EQ(v4(a).sin_addr.s_addr, htonl(INADDR_ANY));
  ASSERT_TRUE(to_socket_address("10.1.2.3", 65535, a, len));
  EXPECT_EQ(v4(a).sin_port, htons(65535));
  EXPECT_EQ(v4(a).sin_addr.s_addr, htonl(0x0a010203));
}

TEST(SocketAddress, IPv6HostAndPort) {
  sockaddr_storage a{};
  socklen_t len = 0;
  ASSERT_TRUE(to_socket_address("::1", 443, a, len));
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  EXPECT_EQ(v6(a).sin6_family, AF_INET6);
  EXPECT_EQ(v6(a).sin6_port, htons(443));
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&v6(a).sin6_addr));
  EXPECT_EQ(v6(a).sin6_flowinfo, 0u);
  EXPECT_EQ(v6(a).sin6_scope_id, 0u);
  ASSERT_TRUE(to_socket_address("2001:db8::2:1", 80, a, len));
  std::array<uint8_t, 16> want{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0x01};
  EXPECT_EQ(std::memcmp(&v6(a).sin6_addr, want.data(), 16), 0);
  ASSERT_TRUE(to_socket_address("::ffff:1.2.3.4", 1, a, len));
  EXPECT_EQ(v6(a).sin6_family, AF_INET6);  // an IPv4-mapped address stays IPv6
  EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&v6(a).sin6_addr));
}

TEST(SocketAddress, BadHostOrPortLeavesNothing) {
  sockaddr_storage a{};
  socklen_t len = 0;
  for (const char* host : {"", "localhost", "[::1]", "1.2.3", "1.2.3.256", "1.2.3.4 ", " ::1",
                           "::1%lo", "fe80::1::2", "1.2.3.4:80"}) {
    std::memset(&a, 0xff, sizeof a);
    len = 99;
    EXPECT_FALSE(to_socket_address(host, 80, a, len)) << host;
    EXPECT_EQ(a.ss_family, 0) << host;
    EXPECT_EQ(len, 0u) << host;
  }
  for (int port : {-1, 65536, 1 << 20}) {
    EXPECT_FALSE(to_socket_address("127.0.0.1", port, a, len)) << port;
    EXPECT_FALSE(to_socket_address("::1", port, a, len)) << port;
  }
  EXPECT_TRUE(is_ip_address("192.168.0.1"));
  EXPECT_TRUE(is_ip_address("::"));
  EXPECT_FALSE(is_ip_address("example.com"));
  EXPECT_FALSE(is_ip_address("[::1]"));
}

TEST(SocketAddress, HostColonPortText) {
  sockaddr_storage a{};
  socklen_t len = 0;
  ASSERT_TRUE(parse_socket_address("127.0.0.1:3001", a, len));
  EXPECT_EQ(len, sizeof(sockaddr_in));
  EXPECT_EQ(v4(a).sin_family, AF_INET);
  EXPECT_EQ(v4(a).sin_port, htons(3001));
  EXPECT_EQ(v4(a).sin_addr.s_addr, htonl(0x7f000001));
  ASSERT_TRUE(parse_socket_address("[::1]:65535", a, len));
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  EXPECT_EQ(v6(a).sin6_family, AF_INET6);
  EXPECT_EQ(v6(a).sin6_port, htons(65535));
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&v6(a).sin6_addr));
  for (const char* bad :
       {"localhost:3001", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:-1", "127.0.0.1:+1", "127.0.0.1:30a", "127.0.0.1:99999999999", "::1:3001",
        "[127.0.0.1]:3001", "[::1]", "[::1]:", "[::1:3001", ":3001", "[]:3001"})
    EXPECT_FALSE(parse_socket_address(bad, a, len)) << bad;
}

}  // namespace
}  // namespace daheim::transport
