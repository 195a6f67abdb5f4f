// Exact bytes of encoded packets, as the Engine.IO frames carry them.
#include "socketio/encoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "socketio/decoder.hpp"

namespace daheim::socketio {
namespace {

const std::string kPh0 = R"({"_placeholder":true,"num":0})";
const std::string kPh1 = R"({"_placeholder":true,"num":1})";

std::string text_of(const EncodedPacket& p) {
  EXPECT_FALSE(p.text->binary);
  return std::string(p.text->body());
}

TEST(Encoder, FramesHaveHeadroom) {
  EncodedPacket p = encode_disconnect("/");
  EXPECT_EQ(p.text->bytes.size(), engineio::kFrameHeadroom + 2);
  EXPECT_EQ(p.text->body(), "41");
  EXPECT_TRUE(p.attachments.empty());
}

TEST(Encoder, ConnectReplyCarriesOnlySid) {
  EXPECT_EQ(text_of(encode_connect("/", "AAAAAAAAAAAAAAAAAAAA")),
            R"(40{"sid":"AAAAAAAAAAAAAAAAAAAA"})");
  EXPECT_EQ(text_of(encode_connect("/custom", "x")), R"(40/custom,{"sid":"x"})");
}

TEST(Encoder, ConnectError) {
  EXPECT_EQ(text_of(encode_connect_error("/random", "Invalid namespace")),
            R"(44/random,{"message":"Invalid namespace"})");
  EXPECT_EQ(text_of(encode_connect_error("/", "not \"ok\"", R"({"code":401})")),
            R"(44{"message":"not \"ok\"","data":{"code":401}})");
}

TEST(Encoder, Disconnect) {
  EXPECT_EQ(text_of(encode_disconnect("/")), "41");
  EXPECT_EQ(text_of(encode_disconnect("/custom")), "41/custom,");
}

TEST(Encoder, EventSplicesArgumentsVerbatim) {
  EXPECT_EQ(text_of(encode_event("/", "message-back", R"([1,"2",{"3":[true]}])")),
            R"(42["message-back",1,"2",{"3":[true]}])");
  EXPECT_EQ(text_of(encode_event("/", "message-back", R"(["message to main namespace"])")),
            R"(42["message-back","message to main namespace"])");
  EXPECT_EQ(text_of(encode_event("/custom", "auth", "[{}]")), R"(42/custom,["auth",{}])");
}

TEST(Encoder, EventWithoutArguments) {
  EXPECT_EQ(text_of(encode_event("/", "ping", "")), R"(42["ping"])");
  EXPECT_EQ(text_of(encode_event("/", "ping", "[]")), R"(42["ping"])");
  EXPECT_EQ(text_of(encode_event("/", "ping", " [ ] ")), R"(42["ping"])");
}

TEST(Encoder, NonArrayArgumentsAreTheOnlyArgument) {
  EXPECT_EQ(text_of(encode_event("/", "n", "5")), R"(42["n",5])");
  EXPECT_EQ(text_of(encode_event("/", "o", R"({"a":1})")), R"(42["o",{"a":1}])");
  EXPECT_EQ(text_of(encode_ack("/", 3, "true")), "433[true]");
}

TEST(Encoder, EventNameIsEscaped) {
  EXPECT_EQ(text_of(encode_event("/", "a\"b\n", "[1]")), R"(42["a\"b\n",1])");
}

TEST(Encoder, EventWithAckId) {
  EXPECT_EQ(text_of(encode_event("/", "foo", "[]", {}, 12)), R"(4212["foo"])");
  EXPECT_EQ(text_of(encode_event("/admin", "bar", "[]", {}, 13)), R"(42/admin,13["bar"])");
}

TEST(Encoder, Ack) {
  EXPECT_EQ(text_of(encode_ack("/", 456, R"([1,"2",{"3":[false]}])")),
            R"(43456[1,"2",{"3":[false]}])");
  EXPECT_EQ(text_of(encode_ack("/admin", 13, R"(["bar"])")), R"(43/admin,13["bar"])");
  EXPECT_EQ(text_of(encode_ack("/", 0, "")), "430[]");
}

TEST(Encoder, BinaryEventEcho) {
  std::vector<std::string> atts = {"\x01\x02\x03", "\x04\x05\x06"};
  EncodedPacket p = encode_event("/", "message-back", "[" + kPh0 + "," + kPh1 + "]", atts);
  EXPECT_EQ(text_of(p), R"(452-["message-back",)" + kPh0 + "," + kPh1 + "]");
  ASSERT_EQ(p.attachments.size(), 2u);
  EXPECT_TRUE(p.attachments[0]->binary);
  EXPECT_EQ(p.attachments[0]->body(), "\x01\x02\x03");
  EXPECT_EQ(p.attachments[1]->body(), "\x04\x05\x06");
}

TEST(Encoder, BinaryAck) {
  std::vector<std::string> atts = {"a", "b"};
  EncodedPacket p = encode_ack("/", 789, "[" + kPh0 + "," + kPh1 + "]", atts);
  EXPECT_EQ(text_of(p), "462-789[" + kPh0 + "," + kPh1 + "]");
  EXPECT_EQ(p.attachments.size(), 2u);
  std::vector<std::string> one = {"z"};
  EXPECT_EQ(text_of(encode_ack("/admin", 15, R"(["bar",)" + kPh0 + "]", one)),
            R"(461-/admin,15["bar",)" + kPh0 + "]");
}

TEST(Encoder, BinaryEventInNamespaceWithId) {
  std::vector<std::string> one = {"z"};
  EXPECT_EQ(text_of(encode_event("/admin", "baz", "[" + kPh0 + "]", one, 4)),
            R"(451-/admin,4["baz",)" + kPh0 + "]");
}

TEST(Encoder, GenericEncode) {
  EXPECT_EQ(text_of(encode(PacketType::Connect, "/", std::nullopt, R"({"token":"1"})")),
            R"(40{"token":"1"})");
  EXPECT_EQ(text_of(encode(PacketType::Event, "/", 1, R"(["x"])")), R"(421["x"])");
}

TEST(Encoder, RoundTripsThroughTheDecoder) {
  std::vector<std::string> atts = {std::string("\0\xff", 2), ""};
  EncodedPacket p = encode_event("/nsp", "ev", "[" + kPh1 + ",2," + kPh0 + "]", atts, 9);
  Decoder d;
  Packet out;
  ASSERT_EQ(d.add_text(p.text->body().substr(1), out), DecodeStatus::Pending);
  ASSERT_EQ(d.add_binary(p.attachments[0]->body(), out), DecodeStatus::Pending);
  ASSERT_EQ(d.add_binary(p.attachments[1]->body(), out), DecodeStatus::Complete);
  EXPECT_EQ(out.nsp, "/nsp");
  EXPECT_EQ(out.id, 9u);
  EXPECT_EQ(out.name, "ev");
  EXPECT_EQ("[" + std::string(out.args_tail), "[" + kPh1 + ",2," + kPh0 + "]");
  EXPECT_EQ(out.attachments, atts);
}

}  // namespace
}  // namespace daheim::socketio
