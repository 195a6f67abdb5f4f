#include <gtest/gtest.h>

#include "engineio/codec.hpp"

namespace daheim::engineio {
namespace {

TEST(Codec, JoinsTextAndBinaryIntoOnePayload) {
  std::string out;
  append_payload_item(out, *make_text_frame(PacketType::Message, "hello"));
  append_payload_item(out, *make_binary_frame(std::string("\x01\x02\x03\x04", 4)));
  EXPECT_EQ(out, "4hello\x1e" "bAQIDBA==");
}

}  // namespace
}  // namespace daheim::engineio
