#include "engineio/codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "engineio/packet.hpp"
#include "engineio_fakes.hpp"

namespace daheim::engineio {
namespace {

using namespace std::string_literals;

// --- Frames -----------------------------------------------------------------

TEST(Frame, TextFrameLayoutIsHeadroomThenTypeThenData) {
  EXPECT_EQ(kFrameHeadroom, 16u);
  FramePtr f = make_text_frame(PacketType::Message, "hello");
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->binary);
  EXPECT_EQ(f->bytes, std::string(16, '\0') + "4hello");
  EXPECT_EQ(f->bytes.size(), 16u + 6u);
  EXPECT_EQ(f->body(), "4hello");
  EXPECT_EQ(f->size(), 6u);
  // The body is a view into bytes, right after the headroom.
  EXPECT_EQ(f->body().data(), f->bytes.data() + kFrameHeadroom);
}

TEST(Frame, TextFrameForEveryPacketType) {
  const std::vector<std::pair<PacketType, char>> types = {
      {PacketType::Open, '0'}, {PacketType::Close, '1'},   {PacketType::Ping, '2'},
      {PacketType::Pong, '3'}, {PacketType::Message, '4'}, {PacketType::Upgrade, '5'},
      {PacketType::Noop, '6'},
  };
  for (const auto& [type, c] : types) {
    FramePtr f = make_text_frame(type, "");
    EXPECT_EQ(f->bytes, std::string(16, '\0') + c);
    EXPECT_EQ(f->body(), std::string(1, c));
    EXPECT_EQ(f->size(), 1u);
    EXPECT_FALSE(f->binary);
  }
  EXPECT_EQ(make_text_frame(PacketType::Pong, "probe")->body(), "3probe");
}

TEST(Frame, TextFrameKeepsDataVerbatim) {
  const std::string data = "caf\xc3\xa9\x1e\0x"s;  // UTF-8, a separator and a NUL
  FramePtr f = make_text_frame(PacketType::Message, data);
  EXPECT_EQ(f->body(), "4"s + data);
  EXPECT_EQ(f->size(), 1 + data.size());
}

TEST(Frame, BinaryFrameLayoutIsHeadroomThenRawData) {
  const std::string data("\x01\x02\x00\x04", 4);
  FramePtr f = make_binary_frame(data);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->binary);
  EXPECT_EQ(f->bytes, std::string(16, '\0') + data);
  EXPECT_EQ(f->body(), data);  // no type prefix in v4
  EXPECT_EQ(f->size(), 4u);
}

TEST(Frame, EmptyBinaryFrame) {
  FramePtr f = make_binary_frame("");
  EXPECT_TRUE(f->binary);
  EXPECT_EQ(f->bytes, std::string(16, '\0'));
  EXPECT_EQ(f->body(), "");
  EXPECT_EQ(f->size(), 0u);
}

// --- decode_packet ----------------------------------------------------------

TEST(DecodePacket, EveryPacketType) {
  struct Case {
    std::string text;
    PacketType type;
    std::string data;
  };
  const std::vector<Case> cases = {
      {"0", PacketType::Open, ""},
      {"1", PacketType::Close, ""},
      {"2", PacketType::Ping, ""},
      {"2probe", PacketType::Ping, "probe"},
      {"3", PacketType::Pong, ""},
      {"3probe", PacketType::Pong, "probe"},
      {"4hello", PacketType::Message, "hello"},
      {"4", PacketType::Message, ""},
      {"5", PacketType::Upgrade, ""},
      {"6", PacketType::Noop, ""},
  };
  for (const auto& c : cases) {
    auto p = decode_packet(c.text);
    ASSERT_TRUE(p.has_value()) << c.text;
    EXPECT_EQ(p->type, c.type) << c.text;
    EXPECT_EQ(p->data, c.data) << c.text;
    EXPECT_FALSE(p->binary) << c.text;
  }
}

TEST(DecodePacket, DataIsBorrowedFromTheInputAndKeptVerbatim) {
  const std::string text = "42[\"a\",\"\x1e\"]\0z"s;
  auto p = decode_packet(text);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->data.data(), text.data() + 1);
  EXPECT_EQ(p->data, text.substr(1));
}

TEST(DecodePacket, RejectsEmptyAndUnknownTypes) {
  for (std::string text :
       {""s, "7"s, "a"s, "abc"s, "/"s, "8hello"s, "b"s, "bAQIDBA=="s, " 4hello"s, "\x1e"s, "\0"s}) {
    EXPECT_FALSE(decode_packet(text).has_value()) << "'" << text << "'";
  }
}

// --- decode_payload ---------------------------------------------------------

TEST(DecodePayload, SplitsOnRecordSeparator) {
  const std::string body =
      "4hello\x1e"
      "2\x1e"
      "4world";
  DecodedPayload p = decode_payload(body);
  EXPECT_FALSE(p.error);
  ASSERT_EQ(p.packets.size(), 3u);
  EXPECT_EQ(p.packets[0].type, PacketType::Message);
  EXPECT_EQ(p.packets[0].data, "hello");
  EXPECT_FALSE(p.packets[0].binary);
  EXPECT_EQ(p.packets[1].type, PacketType::Ping);
  EXPECT_EQ(p.packets[1].data, "");
  EXPECT_EQ(p.packets[2].type, PacketType::Message);
  EXPECT_EQ(p.packets[2].data, "world");
  // Text data is borrowed from the body.
  EXPECT_EQ(p.packets[2].data.data(), body.data() + body.size() - 5);
}

TEST(DecodePayload, SinglePacket) {
  DecodedPayload p = decode_payload("4hello");
  EXPECT_FALSE(p.error);
  ASSERT_EQ(p.packets.size(), 1u);
  EXPECT_EQ(p.packets[0].type, PacketType::Message);
  EXPECT_EQ(p.packets[0].data, "hello");
}

// Session::on_post_body decodes every POST into the same DecodedPayload.
TEST(DecodePayload, IntoAReusedPayloadKeepsNothingOfTheLastOne) {
  DecodedPayload p;
  decode_payload(
      "4a\x1e"
      "bAQI=\x1e"
      "4c",
      p);
  ASSERT_EQ(p.packets.size(), 3u);
  decode_payload("x", p);  // invalid at once
  EXPECT_TRUE(p.error);
  EXPECT_TRUE(p.packets.empty());
  EXPECT_TRUE(p.binary_storage.empty());
  decode_payload("4only", p);
  EXPECT_FALSE(p.error);
  ASSERT_EQ(p.packets.size(), 1u);
  EXPECT_EQ(p.packets[0].type, PacketType::Message);
  EXPECT_FALSE(p.packets[0].binary);
  EXPECT_EQ(p.packets[0].data, "only");
}

TEST(DecodePayload, BinaryItemIsBase64Message) {
  DecodedPayload p = decode_payload(
      "4hello\x1e"
      "bAQIDBA==");
  EXPECT_FALSE(p.error);
  ASSERT_EQ(p.packets.size(), 2u);
  EXPECT_EQ(p.packets[0].type, PacketType::Message);
  EXPECT_FALSE(p.packets[0].binary);
  EXPECT_EQ(p.packets[0].data, "hello");
  EXPECT_EQ(p.packets[1].type, PacketType::Message);
  EXPECT_TRUE(p.packets[1].binary);
  EXPECT_EQ(p.packets[1].data, std::string("\x01\x02\x03\x04", 4));
}

TEST(DecodePayload, EmptyBinaryItemIsEmptyBinaryMessage) {
  DecodedPayload p = decode_payload("b");
  EXPECT_FALSE(p.error);
  ASSERT_EQ(p.packets.size(), 1u);
  EXPECT_TRUE(p.packets[0].binary);
  EXPECT_EQ(p.packets[0].data, "");
}

TEST(DecodePayload, ManyBinaryItemsStayValidAndSurviveAMove) {
  std::string body;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    // Short (in-place) and long strings alike.
    std::string bytes(static_cast<std::size_t>(i % 40), static_cast<char>(i));
    expected.push_back(bytes);
    append_payload_item(body, *make_binary_frame(bytes));
  }
  DecodedPayload decoded = decode_payload(body);
  DecodedPayload p = std::move(decoded);
  EXPECT_FALSE(p.error);
  ASSERT_EQ(p.packets.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(p.packets[i].binary);
    EXPECT_EQ(p.packets[i].data, expected[i]) << i;
  }
}

TEST(DecodePayload, EmptyBodyIsAnError) {
  DecodedPayload p = decode_payload("");
  EXPECT_TRUE(p.error);
  EXPECT_TRUE(p.packets.empty());
}

TEST(DecodePayload, ErrorStopsDecodingButKeepsEarlierPackets) {
  DecodedPayload p = decode_payload(
      "4hello\x1e"
      "7bad\x1e"
      "4world");
  EXPECT_TRUE(p.error);
  ASSERT_EQ(p.packets.size(), 1u);
  EXPECT_EQ(p.packets[0].data, "hello");

  p = decode_payload(
      "4a\x1e"
      "4b\x1e"
      "abc");
  EXPECT_TRUE(p.error);
  ASSERT_EQ(p.packets.size(), 2u);
  EXPECT_EQ(p.packets[0].data, "a");
  EXPECT_EQ(p.packets[1].data, "b");
}

TEST(DecodePayload, InvalidFirstPacket) {
  for (std::string body : {"abc"s, "7"s, "a"s,
                           "\x1e"
                           "4hello"s}) {
    DecodedPayload p = decode_payload(body);
    EXPECT_TRUE(p.error) << body;
    EXPECT_TRUE(p.packets.empty()) << body;
  }
}

TEST(DecodePayload, EmptyItemsAreErrors) {
  DecodedPayload p = decode_payload("4hello\x1e");
  EXPECT_TRUE(p.error);
  ASSERT_EQ(p.packets.size(), 1u);

  p = decode_payload(
      "4a\x1e\x1e"
      "4b");
  EXPECT_TRUE(p.error);
  ASSERT_EQ(p.packets.size(), 1u);
  EXPECT_EQ(p.packets[0].data, "a");
}

TEST(DecodePayload, BadBase64IsAnError) {
  for (std::string bad : {"b!!!!"s, "bAQIDB"s, "bAQIDBA"s, "bAQ=DBA="s, "bAQIDBA-"s, "bAQID\n"s}) {
    const std::string body = "4hello\x1e" + bad +
                             "\x1e"
                             "4after";
    DecodedPayload p = decode_payload(body);
    EXPECT_TRUE(p.error) << bad;
    ASSERT_EQ(p.packets.size(), 1u) << bad;
    EXPECT_EQ(p.packets[0].data, "hello");
  }
}

// --- append_payload_item ----------------------------------------------------

TEST(AppendPayloadItem, FirstItemHasNoSeparator) {
  std::string out;
  append_payload_item(out, *make_text_frame(PacketType::Message, "hello"));
  EXPECT_EQ(out, "4hello");
}

TEST(AppendPayloadItem, JoinsTextAndBinaryIntoOnePayload) {
  std::string out;
  append_payload_item(out, *make_text_frame(PacketType::Message, "hello"));
  append_payload_item(out, *make_binary_frame(std::string("\x01\x02\x03\x04", 4)));
  EXPECT_EQ(out,
            "4hello\x1e"
            "bAQIDBA==");
}

TEST(AppendPayloadItem, JoinsSeveralTextPackets) {
  std::string out;
  for (const char* d : {"test1", "test2", "test3"})
    append_payload_item(out, *make_text_frame(PacketType::Message, d));
  append_payload_item(out, *make_text_frame(PacketType::Ping, ""));
  append_payload_item(out, *make_text_frame(PacketType::Close, ""));
  EXPECT_EQ(out,
            "4test1\x1e"
            "4test2\x1e"
            "4test3\x1e"
            "2\x1e"
            "1");
}

TEST(AppendPayloadItem, BinaryFirstAndEmptyBinary) {
  std::string out;
  append_payload_item(out, *make_binary_frame(""));
  EXPECT_EQ(out, "b");
  append_payload_item(out, *make_binary_frame("\xff"));
  EXPECT_EQ(out,
            "b\x1e"
            "b/w==");
}

TEST(AppendPayloadItem, RoundTripsThroughDecodePayload) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string out;
  append_payload_item(out, *make_text_frame(PacketType::Message, "caf\xc3\xa9"));
  append_payload_item(out, *make_binary_frame(all));
  append_payload_item(out, *make_text_frame(PacketType::Pong, ""));
  DecodedPayload p = decode_payload(out);
  EXPECT_FALSE(p.error);
  ASSERT_EQ(p.packets.size(), 3u);
  EXPECT_EQ(p.packets[0].data, "caf\xc3\xa9");
  EXPECT_FALSE(p.packets[0].binary);
  EXPECT_TRUE(p.packets[1].binary);
  EXPECT_EQ(p.packets[1].data, all);
  EXPECT_EQ(p.packets[2].type, PacketType::Pong);
}

}  // namespace
}  // namespace daheim::engineio
