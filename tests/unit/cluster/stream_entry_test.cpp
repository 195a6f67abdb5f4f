// The streams adapter's pure pieces, byte for byte: stream names (Java
// hashCode % streamCount, the reference's negative-hash quirk included), the
// data field (JSON, or base64 msgpack with binary), stream ids, broadcasts
// read back with their offset, and sessions as Node.js nodes store them.
#include <gtest/gtest.h>

#include "cluster/msgpack_read.hpp"
#include "cluster/session_codec.hpp"
#include "cluster/stream_broadcast.hpp"
#include "cluster/stream_entry.hpp"

namespace daheim::cluster {
namespace {

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST(StreamEntry, StreamNamesFollowTheReferenceHash) {
  EXPECT_EQ(java_hash("/"), 47);
  EXPECT_EQ(java_hash("/chat"), 46457863);            // "/chat".hashCode() in Java
  EXPECT_EQ(java_hash("\xF0\x9F\x98\x80"), 1772899);  // U+1F600: two UTF-16 units
  EXPECT_EQ(stream_for("socket.io", 1, "/chat"), "socket.io");
  EXPECT_EQ(stream_for("socket.io", 4, "/"), "socket.io-3");
  EXPECT_EQ(stream_for("socket.io", 4, "/dynamic-namespace-1"), "socket.io--2");
}

TEST(StreamEntry, ParsesStreamIdsAsTheReferenceAccepts) {
  auto id = parse_stream_id("1718000000123-7");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->ms, 1718000000123u);
  EXPECT_EQ(id->seq, 7u);
  EXPECT_EQ(id->text(), "1718000000123-7");
  EXPECT_LT(*parse_stream_id("5-9"), *parse_stream_id("6-0"));
  for (const char* bad : {"", "1", "1-", "-1", "a-1", "1-2-3", " 1-2", "Q8Y7n4D"})
    EXPECT_FALSE(parse_stream_id(bad)) << bad;
}

TEST(StreamEntry, DataIsJsonOrBase64MsgpackWithBinary) {
  EXPECT_EQ(encode_stream_data(R"({"a":1})", {}), R"({"a":1})");
  std::string_view att[] = {"\x01\x02"};
  std::string b64 = encode_stream_data(R"({"b":{"_placeholder":true,"num":0}})", att);
  // {b: <bin 01 02>}: 81 a1 62 c4 02 01 02
  EXPECT_EQ(b64, "gaFixAIBAg==");
  msgpack::sbuffer buf;
  ASSERT_TRUE(decode_stream_data(b64, buf));
  EXPECT_EQ(hex(std::string_view(buf.data(), buf.size())), "81a162c4020102");
  msgpack::sbuffer bad;
  EXPECT_FALSE(decode_stream_data("not base64!", bad));
}

TEST(StreamEntry, BroadcastsGetTheEntryIdAsLastArgument) {
  StreamEntry e{
      "1718000000123-0", "9f2c41d07ab3e6c5", "/", 3,
      R"({"packet":{"type":2,"data":["hello","world"]},"opts":{"rooms":["r"],"except":[],"flags":{}}})"};
  StreamBroadcast b;
  ASSERT_TRUE(decode_stream_broadcast(e, b));
  EXPECT_EQ(b.opts.rooms, std::vector<std::string>{"r"});
  EXPECT_TRUE(takes_offset(b));
  EXPECT_EQ(stream_packet("/", b, e.id).text->body(), R"(42["hello","world","1718000000123-0"])");
  EXPECT_TRUE(stream_packet("/", b, e.id).logged);
  EXPECT_EQ(stream_packet("/chat", b, "").text->body(), R"(42/chat,["hello","world"])");
  StreamBroadcast v;
  e.data =
      R"({"packet":{"type":2,"data":["v"]},"opts":{"rooms":[],"except":[],"flags":{"volatile":true}}})";
  ASSERT_TRUE(decode_stream_broadcast(e, v));
  EXPECT_FALSE(takes_offset(v));
  e.data = R"({"packet":{"type":2,"data":[]},"opts":{}})";
  EXPECT_FALSE(decode_stream_broadcast(e, v));
}

TEST(SessionCodec, ReadsANodeSessionAndWritesOneNodeReads) {
  // What @socket.io/redis-streams-adapter stores: base64(msgpack({sid, pid,
  // rooms, data})), here {sid: "x", pid: "y", rooms: ["x", "r"], data: {k: 1}}
  // as @msgpack/msgpack 2.8 encodes it.
  std::optional<socketio::SavedSession> s =
      decode_session("hKNzaWSheKNwaWSheaVyb29tc5KheKFypGRhdGGBoWsB");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sid, "x");
  EXPECT_EQ(s->pid, "y");
  EXPECT_EQ(s->rooms, (std::vector<std::string>{"x", "r"}));
  EXPECT_EQ(s->data, R"({"k":1})");
  EXPECT_TRUE(s->nsp.empty());

  socketio::SavedSession mine{"/", "x", "y", {"x"}, "", "u1", "5-0", 0, "", {{"presence", "\x01"}}};
  std::optional<std::string> bytes = base64_decode(encode_session(mine));
  ASSERT_TRUE(bytes);
  // Node reads the first four keys: sid, pid, rooms, data ({} when unset).
  EXPECT_EQ(hex(bytes->substr(0, 28)),
            hex(std::string("\x85\xa3sid\xa1x\xa3pid\xa1y\xa5rooms\x91\xa1x\xa4"
                            "data\x80",
                            28)));
  std::optional<socketio::SavedSession> back = decode_session(encode_session(mine));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->nsp, "/");
  EXPECT_EQ(back->owner, "u1");
  EXPECT_EQ(back->start_offset, "5-0");
  EXPECT_EQ(back->data, "{}");
  ASSERT_EQ(back->extensions.size(), 1u);
  EXPECT_EQ(back->extensions[0].second, "\x01");
  EXPECT_FALSE(decode_session("@@@@"));
  EXPECT_FALSE(decode_session(base64_encode("\x81\xa3sid\xa1x")));
}

}  // namespace
}  // namespace daheim::cluster
