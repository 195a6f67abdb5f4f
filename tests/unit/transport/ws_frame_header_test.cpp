// The WebSocket frame headers WsWriter puts in front of batched frames
// (RFC 6455 §5.2: FIN, opcode, unmasked, 7/16/64-bit length).
#include <gtest/gtest.h>

#include <string>

#include "transport/ws_writer.hpp"

namespace daheim::transport {
namespace {

std::string header(bool binary, std::size_t size) {
  unsigned char out[10];
  std::size_t n = ws_frame_header(binary, size, out);
  return std::string(reinterpret_cast<const char*>(out), n);
}

TEST(WsFrameHeader, SevenBitLengths) {
  EXPECT_EQ(header(false, 0), std::string("\x81\x00", 2));
  EXPECT_EQ(header(false, 5), "\x81\x05");
  EXPECT_EQ(header(true, 125), "\x82\x7d");
}

TEST(WsFrameHeader, SixteenBitLengths) {
  EXPECT_EQ(header(false, 126), std::string("\x81\x7e\x00\x7e", 4));
  EXPECT_EQ(header(true, 300), std::string("\x82\x7e\x01\x2c", 4));
  EXPECT_EQ(header(false, 65535), "\x81\x7e\xff\xff");
}

TEST(WsFrameHeader, SixtyFourBitLengths) {
  EXPECT_EQ(header(false, 65536), std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  EXPECT_EQ(header(true, 0x0102030405ull),
            std::string("\x82\x7f\x00\x00\x00\x01\x02\x03\x04\x05", 10));
}

}  // namespace
}  // namespace daheim::transport
