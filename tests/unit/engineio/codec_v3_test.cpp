// Engine.IO protocol 3 framing (socket.io-client 2.x) with exact bytes, as
// engine.io-parser 2.x writes and reads them.
#include "engineio/codec_v3.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace daheim::engineio::v3 {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

std::string text_payload(const std::vector<FramePtr>& frames) {
  std::string out;
  for (const FramePtr& f : frames) append_text_item(out, *f);
  return out;
}

std::string binary_payload(const std::vector<FramePtr>& frames) {
  std::string out;
  for (const FramePtr& f : frames) append_binary_item(out, *f);
  return out;
}

// (type, binary, data) of each decoded packet.
std::vector<std::string> packets(const DecodedPayload& d) {
  std::vector<std::string> out;
  for (const InPacket& p : d.packets)
    out.push_back(std::string(1, static_cast<char>(p.type)) + (p.binary ? "b:" : ":") +
                  std::string(p.data));
  return out;
}

TEST(CodecV3, Utf16LengthCountsSurrogatePairsTwice) {
  EXPECT_EQ(utf16_length(""), 0u);
  EXPECT_EQ(utf16_length("abc"), 3u);
  EXPECT_EQ(utf16_length("4\xe2\x82\xac"), 2u);      // "4€"
  EXPECT_EQ(utf16_length("\xc3\xa9"), 1u);           // "é"
  EXPECT_EQ(utf16_length("4\xf0\x9f\x98\x80"), 3u);  // "4😀"
}

TEST(CodecV3, TextPayloadIsLengthPrefixedInUtf16Units) {
  EXPECT_EQ(text_payload({make_text_frame(PacketType::Open, R"({"sid":"x"})"),
                          make_text_frame(PacketType::Message, "40")}),
            R"(12:0{"sid":"x"}3:440)");
  EXPECT_EQ(text_payload({make_text_frame(PacketType::Message, "\xe2\x82\xac")}),
            "2:4\xe2\x82\xac");
  EXPECT_EQ(text_payload({make_text_frame(PacketType::Message, "\xf0\x9f\x98\x80")}),
            "3:4\xf0\x9f\x98\x80");
  EXPECT_EQ(text_payload({make_text_frame(PacketType::Pong, "")}), "1:3");
}

TEST(CodecV3, BinaryInATextPayloadIsB4Base64) {
  EXPECT_EQ(text_payload(
                {make_text_frame(PacketType::Message, R"(51-["b",{"_placeholder":true,"num":0}])"),
                 binary_frame("\x01\x02\x03"s)}),
            R"(39:451-["b",{"_placeholder":true,"num":0}]6:b4AQID)");
}

TEST(CodecV3, BinaryPayloadFramesEachPacketWithDigitBytes) {
  // Text item: 0x00, "3" as 0x03, 0xFF, "440"; binary item: 0x01, "4" as
  // 0x04, 0xFF, the message type 0x04, then the three bytes.
  EXPECT_EQ(
      binary_payload({make_text_frame(PacketType::Message, "40"), binary_frame("\x01\x02\x03"s)}),
      "\x00\x03\xff"
      "440"
      "\x01\x04\xff\x04\x01\x02\x03"s);
  // Lengths of two digits and more: one byte per digit; text counts bytes.
  std::string twelve = "4" + std::string(11, 'x');
  EXPECT_EQ(binary_payload({make_text_frame(PacketType::Message, std::string(11, 'x'))}),
            "\x00\x01\x02\xff"s + twelve);
  EXPECT_EQ(binary_payload({make_text_frame(PacketType::Message, "\xe2\x82\xac")}),
            "\x00\x04\xff"
            "4\xe2\x82\xac"s);
}

TEST(CodecV3, DecodesTextPayloads) {
  DecodedPayload d = decode_payload(
      "1:22:40"
      "2:4\xe2\x82\xac"
      "6:b4AQID",
      false);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(packets(d),
            (std::vector<std::string>{"2:", "4:0", "4:\xe2\x82\xac", "4b:\x01\x02\x03"}));
  // "0:" items are empty and skipped.
  d = decode_payload("0:1:2", false);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(packets(d), (std::vector<std::string>{"2:"}));
}

TEST(CodecV3, RefusesBadTextPayloads) {
  for (std::string_view bad : {""sv, "2:2"sv, ":2"sv, "x:2"sv, "1:9"sv, "2:b2AA"sv, "3:b4!!"sv,
                               "1"sv, "1:2abc"sv, "1:\xe2\x82"sv, "1:2-1:2"sv}) {
    DecodedPayload d = decode_payload(bad, false);
    EXPECT_TRUE(d.error) << bad;
  }
  // The packets before the bad item are kept.
  DecodedPayload d = decode_payload(
      "1:2"
      "1:9",
      false);
  EXPECT_TRUE(d.error);
  EXPECT_EQ(packets(d), (std::vector<std::string>{"2:"}));
}

TEST(CodecV3, DecodesBinaryPayloads) {
  // Packets view the body: it must outlive them.
  const std::string body =
      "\x00\x03\xff"
      "440"
      "\x01\x04\xff\x04\x01\x02\x03"
      "\x00\x01\xff"
      "2"s;
  DecodedPayload d = decode_payload(body, true);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(packets(d), (std::vector<std::string>{"4:40", "4b:\x01\x02\x03", "2:"}));
}

TEST(CodecV3, RefusesBadBinaryPayloads) {
  for (std::string bad : {"\x02\x01\xff"
                          "2"s,             // neither text nor binary
                          "\x00\xff"s,      // no digits
                          "\x00\x0a\xff"s,  // a digit byte above 9
                          "\x00\x05\xff"
                          "2"s,                     // shorter than announced
                          "\x00\x01"s,              // no 0xFF
                          "\x01\x02\xff\x02\x00"s,  // binary that is not a message
                          "\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\xff"s}) {
    DecodedPayload d = decode_payload(bad, true);
    EXPECT_TRUE(d.error) << testing::PrintToString(bad);
  }
}

TEST(CodecV3, WebSocketBinaryFramesCarryTheTypeByte) {
  FramePtr f = binary_frame("\x01\x02"s);
  EXPECT_TRUE(f->binary);
  EXPECT_EQ(f->body(), "\x04\x01\x02"s);
  EXPECT_EQ(ws_binary_body("\x01\x02"s), "\x04\x01\x02"s);
  std::string_view data;
  const std::string frame = "\x04\x01\x02"s;
  ASSERT_TRUE(ws_binary_data(frame, data));
  EXPECT_EQ(data, "\x01\x02"s);
  EXPECT_FALSE(ws_binary_data("\x02\x01"s, data));
  EXPECT_FALSE(ws_binary_data(""s, data));
}

}  // namespace
}  // namespace daheim::engineio::v3
