// Every packet of reference/protocol.md §2 and conformance.md §2, and every
// malformed case. Engine.IO's leading "4" is not part of what the Socket.IO
// decoder sees.
#include "socketio/decoder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace daheim::socketio {
namespace {

const std::string kPh0 = R"({"_placeholder":true,"num":0})";
const std::string kPh1 = R"({"_placeholder":true,"num":1})";

Packet decode_ok(std::string_view text) {
  Decoder d;
  Packet p;
  EXPECT_EQ(d.add_text(text, p), DecodeStatus::Complete) << text << ": " << to_string(d.error());
  return p;
}

DecodeError decode_error(std::string_view text, std::size_t max_attachments = 10) {
  Packet p;
  std::size_t n = 0;
  return decode_text(text, max_attachments, p, n);
}

std::string args_of(const Packet& p) {
  return "[" + std::string(p.args_tail);
}

TEST(Decoder, ConnectToMainNamespace) {
  Packet p = decode_ok("0");
  EXPECT_EQ(p.type, PacketType::Connect);
  EXPECT_EQ(p.nsp, "/");
  EXPECT_FALSE(p.id);
  EXPECT_EQ(p.data, "");
}

TEST(Decoder, ConnectWithAuth) {
  Packet p = decode_ok(R"(0{"token":"123"})");
  EXPECT_EQ(p.nsp, "/");
  EXPECT_EQ(p.data, R"({"token":"123"})");
}

TEST(Decoder, ConnectToCustomNamespace) {
  EXPECT_EQ(decode_ok("0/custom,").nsp, "/custom");
  Packet p = decode_ok(R"(0/custom,{"token":"abc"})");
  EXPECT_EQ(p.nsp, "/custom");
  EXPECT_EQ(p.data, R"({"token":"abc"})");
}

TEST(Decoder, NamespaceRunsToTheEndWithoutComma) {
  EXPECT_EQ(decode_ok("0/custom").nsp, "/custom");
  EXPECT_EQ(decode_ok("0/random").nsp, "/random");
  Packet d = decode_ok("1/custom");
  EXPECT_EQ(d.type, PacketType::Disconnect);
  EXPECT_EQ(d.nsp, "/custom");
}

TEST(Decoder, Disconnect) {
  Packet p = decode_ok("1");
  EXPECT_EQ(p.type, PacketType::Disconnect);
  EXPECT_EQ(p.nsp, "/");
  EXPECT_EQ(decode_ok("1/admin,").nsp, "/admin");
}

TEST(Decoder, EventKeepsArgumentsByteForByte) {
  Packet p = decode_ok(R"(2["message",1,"2",{"3":[true]}])");
  EXPECT_EQ(p.type, PacketType::Event);
  EXPECT_EQ(p.name, "message");
  EXPECT_EQ(args_of(p), R"([1,"2",{"3":[true]}])");
  EXPECT_FALSE(p.id);
  Packet q = decode_ok(R"(2["message","message to main namespace"])");
  EXPECT_EQ(args_of(q), R"(["message to main namespace"])");
}

TEST(Decoder, EventWithoutArguments) {
  Packet p = decode_ok(R"(2["ping"])");
  EXPECT_EQ(p.name, "ping");
  EXPECT_EQ(args_of(p), "[]");
}

TEST(Decoder, EventWithAckId) {
  Packet p = decode_ok(R"(212["foo"])");
  EXPECT_EQ(p.name, "foo");
  EXPECT_EQ(p.id, 12u);
  Packet q = decode_ok(R"(2456["message-with-ack",1,"2",{"3":[false]}])");
  EXPECT_EQ(q.id, 456u);
  EXPECT_EQ(args_of(q), R"([1,"2",{"3":[false]}])");
  Packet r = decode_ok(R"(2/admin,7["x"])");
  EXPECT_EQ(r.nsp, "/admin");
  EXPECT_EQ(r.id, 7u);
}

TEST(Decoder, EventNamesAreUnescapedAndMayBeNumbers) {
  EXPECT_EQ(decode_ok(R"(2["caf\u00e9",1])").name, "caf\xc3\xa9");
  Packet p = decode_ok("2[42,\"x\"]");
  EXPECT_EQ(p.name, "42");
  EXPECT_EQ(args_of(p), R"(["x"])");
}

TEST(Decoder, Ack) {
  Packet p = decode_ok(R"(3/admin,13["bar"])");
  EXPECT_EQ(p.type, PacketType::Ack);
  EXPECT_EQ(p.nsp, "/admin");
  EXPECT_EQ(p.id, 13u);
  EXPECT_EQ(p.data, R"(["bar"])");
  EXPECT_EQ(decode_ok("30[]").data, "[]");
}

TEST(Decoder, ConnectErrorPayloads) {
  EXPECT_EQ(decode_ok(R"(4{"message":"x"})").type, PacketType::ConnectError);
  EXPECT_EQ(decode_ok(R"(4"Not authorized")").type, PacketType::ConnectError);
  EXPECT_EQ(decode_error("4[1]"), DecodeError::InvalidPayload);
}

TEST(Decoder, BinaryEventWaitsForItsAttachment) {
  Decoder d;
  Packet p;
  ASSERT_EQ(d.add_text(R"(51-["baz",)" + kPh0 + "]", p), DecodeStatus::Pending);
  EXPECT_TRUE(d.pending());
  ASSERT_EQ(d.add_binary(std::string("\x01\x02", 2), p), DecodeStatus::Complete);
  EXPECT_EQ(p.type, PacketType::BinaryEvent);
  EXPECT_EQ(p.name, "baz");
  EXPECT_EQ(args_of(p), "[" + kPh0 + "]");
  ASSERT_EQ(p.attachments.size(), 1u);
  EXPECT_EQ(p.attachments[0], std::string("\x01\x02", 2));
  EXPECT_FALSE(d.pending());
}

TEST(Decoder, BinaryEventInNamespaceWithTwoAttachments) {
  Decoder d;
  Packet p;
  ASSERT_EQ(d.add_text(R"(52-/admin,["x",)" + kPh0 + "," + kPh1 + "]", p), DecodeStatus::Pending);
  ASSERT_EQ(d.add_binary("a", p), DecodeStatus::Pending);
  ASSERT_EQ(d.add_binary("b", p), DecodeStatus::Complete);
  EXPECT_EQ(p.nsp, "/admin");
  EXPECT_EQ(p.attachments, (std::vector<std::string>{"a", "b"}));
}

TEST(Decoder, ConformanceBinaryEvents) {
  Decoder d;
  Packet p;
  ASSERT_EQ(d.add_text(R"(52-["message",)" + kPh0 + "," + kPh1 + "]", p), DecodeStatus::Pending);
  ASSERT_EQ(d.add_binary("\x01\x02\x03", p), DecodeStatus::Pending);
  ASSERT_EQ(d.add_binary("\x04\x05\x06", p), DecodeStatus::Complete);
  EXPECT_EQ(p.name, "message");
  EXPECT_EQ(args_of(p), "[" + kPh0 + "," + kPh1 + "]");
  d.reset();
  ASSERT_EQ(d.add_text(R"(52-789["message-with-ack",)" + kPh0 + "," + kPh1 + "]", p),
            DecodeStatus::Pending);
  d.add_binary("x", p);
  ASSERT_EQ(d.add_binary("y", p), DecodeStatus::Complete);
  EXPECT_EQ(p.id, 789u);
  EXPECT_EQ(p.name, "message-with-ack");
}

TEST(Decoder, BinaryAck) {
  Decoder d;
  Packet p;
  ASSERT_EQ(d.add_text(R"(61-15["bar",)" + kPh0 + "]", p), DecodeStatus::Pending);
  ASSERT_EQ(d.add_binary("z", p), DecodeStatus::Complete);
  EXPECT_EQ(p.type, PacketType::BinaryAck);
  EXPECT_EQ(p.id, 15u);
  EXPECT_EQ(p.data, R"(["bar",)" + kPh0 + "]");
  EXPECT_EQ(p.attachments.size(), 1u);
}

TEST(Decoder, BinaryPacketWithNoAttachmentsIsComplete) {
  Decoder d;
  Packet p;
  ASSERT_EQ(d.add_text(R"(50-["x",1])", p), DecodeStatus::Complete);
  EXPECT_EQ(p.name, "x");
  ASSERT_EQ(d.add_text(R"(2["y"])", p), DecodeStatus::Complete);
  EXPECT_EQ(p.name, "y");
}

TEST(Decoder, ConformanceMalformedPackets) {
  EXPECT_EQ(decode_error("abc"), DecodeError::UnknownType);     // 4abc
  EXPECT_EQ(decode_error("2{}"), DecodeError::InvalidPayload);  // 42{}
  EXPECT_EQ(decode_error(R"(2abc["message-with-ack",1])"), DecodeError::InvalidJson);
}

TEST(Decoder, RejectsUnknownTypesAndEmptyText) {
  EXPECT_EQ(decode_error(""), DecodeError::Empty);
  EXPECT_EQ(decode_error("7"), DecodeError::UnknownType);
  EXPECT_EQ(decode_error("9[]"), DecodeError::UnknownType);
  EXPECT_EQ(decode_error("/"), DecodeError::UnknownType);
}

TEST(Decoder, ConnectPayloadMustBeAnObject) {
  EXPECT_EQ(decode_error("0[]"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error(R"(0"x")"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("0/a,[1]"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("0/a,1"), DecodeError::None);  // ack id 1, as the reference reads it
  EXPECT_EQ(decode_error("0{"), DecodeError::InvalidJson);
}

TEST(Decoder, DisconnectHasNoPayload) {
  EXPECT_EQ(decode_error("1{}"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("1x"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("1/a,[]"), DecodeError::InvalidPayload);
}

TEST(Decoder, EventPayloadRules) {
  EXPECT_EQ(decode_error("2"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("2[]"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("2[true]"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("2[null,1]"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("2[{}]"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("2[[\"a\"]]"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("2\"a\""), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("2[\"a\",]"), DecodeError::InvalidJson);
  EXPECT_EQ(decode_error("2[\"a\"] x"), DecodeError::InvalidJson);
}

TEST(Decoder, ReservedEventNames) {
  for (std::string_view name : {"connect", "connect_error", "disconnect", "disconnecting",
                                "newListener", "removeListener"}) {
    EXPECT_EQ(decode_error("2[\"" + std::string(name) + "\"]"), DecodeError::InvalidPayload)
        << name;
  }
  EXPECT_EQ(decode_error(R"(2["\u0063onnect"])"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error(R"(2["connected"])"), DecodeError::None);
}

TEST(Decoder, AckPayloadMustBeAnArray) {
  EXPECT_EQ(decode_error("31"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("31{}"), DecodeError::InvalidPayload);
  EXPECT_EQ(decode_error("31\"a\""), DecodeError::InvalidPayload);
}

TEST(Decoder, AckIdsAreBounded) {
  EXPECT_EQ(decode_error("29007199254740991[\"a\"]"), DecodeError::None);
  EXPECT_EQ(decode_error("29007199254740992[\"a\"]"), DecodeError::InvalidAckId);
  EXPECT_EQ(decode_error("2999999999999999999999999[\"a\"]"), DecodeError::InvalidAckId);
}

TEST(Decoder, AttachmentCountRules) {
  std::string args = R"(["a",)" + kPh0 + "]";
  EXPECT_EQ(decode_error("5" + args), DecodeError::IllegalAttachments);
  EXPECT_EQ(decode_error("5-" + args), DecodeError::IllegalAttachments);
  EXPECT_EQ(decode_error("5x-" + args), DecodeError::IllegalAttachments);
  EXPECT_EQ(decode_error("51" + args), DecodeError::IllegalAttachments);
  EXPECT_EQ(decode_error("51"), DecodeError::IllegalAttachments);
  EXPECT_EQ(decode_error("510-" + args), DecodeError::None);
  EXPECT_EQ(decode_error("511-" + args), DecodeError::TooManyAttachments);
  EXPECT_EQ(decode_error("599999999999999999999999-" + args), DecodeError::TooManyAttachments);
  EXPECT_EQ(decode_error("53-" + args, 2), DecodeError::TooManyAttachments);
}

TEST(Decoder, PlaceholderNumMustIndexAnAttachment) {
  EXPECT_EQ(decode_error(R"(51-["a",)" + kPh1 + "]"), DecodeError::IllegalPlaceholder);
  EXPECT_EQ(decode_error(R"(51-["a",{"_placeholder":true,"num":-1}])"),
            DecodeError::IllegalPlaceholder);
  EXPECT_EQ(decode_error(R"(51-["a",{"_placeholder":true}])"), DecodeError::IllegalPlaceholder);
  EXPECT_EQ(decode_error(R"(61-3[{"x":[)" + kPh1 + "]}]"), DecodeError::IllegalPlaceholder);
  // In a non-binary packet a placeholder-looking object is plain data.
  EXPECT_EQ(decode_error(R"(2["a",)" + kPh1 + "]"), DecodeError::None);
}

TEST(Decoder, TextWhileAttachmentsArePendingFails) {
  Decoder d;
  Packet p;
  ASSERT_EQ(d.add_text(R"(51-["a",)" + kPh0 + "]", p), DecodeStatus::Pending);
  EXPECT_EQ(d.add_text(R"(2["b"])", p), DecodeStatus::Failed);
  EXPECT_EQ(d.error(), DecodeError::UnexpectedText);
  EXPECT_FALSE(d.pending());
}

TEST(Decoder, BinaryWithoutPendingPacketFails) {
  Decoder d;
  Packet p;
  EXPECT_EQ(d.add_binary("x", p), DecodeStatus::Failed);
  EXPECT_EQ(d.error(), DecodeError::UnexpectedBinary);
  ASSERT_EQ(d.add_text(R"(51-["a",)" + kPh0 + "]", p), DecodeStatus::Pending);
  ASSERT_EQ(d.add_binary("x", p), DecodeStatus::Complete);
  EXPECT_EQ(d.add_binary("y", p), DecodeStatus::Failed);
  EXPECT_EQ(d.error(), DecodeError::UnexpectedBinary);
}

TEST(Decoder, MalformedBinaryHeaderFailsAtOnce) {
  Decoder d;
  Packet p;
  EXPECT_EQ(d.add_text(R"(51-["a",)" + kPh1 + "]", p), DecodeStatus::Failed);
  EXPECT_EQ(d.error(), DecodeError::IllegalPlaceholder);
  EXPECT_FALSE(d.pending());
}

TEST(Decoder, RejectsInvalidUtf8AndDeepNesting) {
  EXPECT_EQ(decode_error("2[\"a\xff\"]"), DecodeError::InvalidUtf8);
  EXPECT_EQ(decode_error("0/\xc3,"), DecodeError::InvalidUtf8);
  std::string deep = "2[\"a\"," + std::string(300, '[') + std::string(300, ']') + "]";
  EXPECT_EQ(decode_error(deep), DecodeError::TooDeep);
}

TEST(Decoder, ToleratesJsonWhitespace) {
  Packet p = decode_ok("2 [ \"a\" , 1 ] ");
  EXPECT_EQ(p.name, "a");
  EXPECT_EQ(args_of(p), "[ 1 ]");
  EXPECT_EQ(decode_error(" 2[\"a\"]"), DecodeError::UnknownType);
}

}  // namespace
}  // namespace daheim::socketio
