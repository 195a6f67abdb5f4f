// JSON text <-> MessagePack as socket.io's Redis adapters (notepack.io) write it.
#include "cluster/msgpack_json.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace daheim::cluster {
namespace {

std::string pack(std::string_view json, std::vector<std::string_view> att = {}) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  EXPECT_TRUE(pack_json(pk, json, att)) << json;
  return std::string(buf.data(), buf.size());
}

std::string to_json(std::string_view bytes, std::vector<std::string>* att = nullptr) {
  msgpack::object_handle oh = unpack_referencing(bytes, 1 << 20);
  std::string out;
  std::vector<std::string> a;
  EXPECT_TRUE(append_json(out, oh.get(), a));
  if (att) *att = a;
  return out;
}

using namespace std::string_literals;

TEST(MsgpackJson, EventArgumentsAsNotepackWritesThem) {
  EXPECT_EQ(pack(R"(["hello","world"])"), "\x92\xa5hello\xa5world"s);
  // Integers take the smallest encoding, unsigned when not negative.
  EXPECT_EQ(pack("[0,127,128,255,256,65535,65536,-1,-32,-33,-128,-129]"),
            "\x9c\x00\x7f\xcc\x80\xcc\xff\xcd\x01\x00\xcd\xff\xff\xce\x00\x01\x00\x00"
            "\xff\xe0\xd0\xdf\xd0\x80\xd1\xff\x7f"s);
  // Integral values are integers whatever their spelling, as in JavaScript.
  EXPECT_EQ(pack("[1.0,1e3,4294967296]"),
            "\x93\x01\xcd\x03\xe8\xcf\x00\x00\x00\x01\x00\x00\x00\x00"s);
  EXPECT_EQ(pack("1.5"), "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"s);
  // 2^64 - 1 reads as the double 2^64, past uint64: float64 (cluster_fuzz
  // found msgpack's pack_double casting it to uint64_t, undefined), as are
  // integral values below int64's range.
  EXPECT_EQ(pack("[18446744073709551615,-1e19]"),
            "\x92\xcb\x43\xf0\x00\x00\x00\x00\x00\x00\xcb\xc3\xe1\x58\xe4\x60\x91\x3d\x00"s);
  EXPECT_EQ(pack(R"({"a":true,"b":[null,false]})"), "\x82\xa1\x61\xc3\xa1\x62\x92\xc0\xc2"s);
  EXPECT_EQ(pack(R"("tab\tq\"\u00e9")"), "\xa8tab\tq\"\xc3\xa9"s);
  std::string s32(32, 'x');
  EXPECT_EQ(pack("\"" + s32 + "\""), "\xd9\x20"s + s32);
  EXPECT_EQ(pack(R"(  [ 1 , { } , [ ] ]  )"), "\x93\x01\x80\x90"s);
}

TEST(MsgpackJson, PlaceholdersBecomeBin) {
  EXPECT_EQ(pack(R"(["file",{"_placeholder":true,"num":0},{"n":{"num":1,"_placeholder":true}}])",
                 {"\x01\x02\x03"s, ""}),
            "\x93\xa4\x66ile\xc4\x03\x01\x02\x03\x81\xa1n\xc4\x00"s);
  // Not a valid placeholder: packed as the object it is.
  EXPECT_EQ(pack(R"({"_placeholder":true,"num":3})", {"x"}),
            "\x82\xac_placeholder\xc3\xa3num\x03"s);
}

TEST(MsgpackJson, RejectsInvalidJson) {
  for (std::string_view bad :
       {"", "[", "[1,]", "{\"a\"}", "tru", "[1 2]", "\"open", "01x", "{}}"}) {
    msgpack::sbuffer buf;
    Packer pk(buf);
    EXPECT_FALSE(pack_json(pk, bad)) << bad;
  }
  std::string deep(kMaxNesting + 2, '[');
  deep += std::string(kMaxNesting + 2, ']');
  msgpack::sbuffer buf;
  Packer pk(buf);
  EXPECT_FALSE(pack_json(pk, deep));
}

TEST(MsgpackJson, MsgpackToJson) {
  EXPECT_EQ(to_json("\x92\xa5hello\xa5world"s), R"(["hello","world"])");
  EXPECT_EQ(to_json("\x94\xcc\xff\xd0\xdf\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\xc0"s),
            "[255,-33,1.5,null]");
  std::vector<std::string> att;
  EXPECT_EQ(to_json("\x92\xc4\x03\x01\x02\x03\x81\xa1k\xc4\x01\xff"s, &att),
            R"([{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}}])");
  EXPECT_EQ(att, (std::vector<std::string>{"\x01\x02\x03"s, "\xff"s}));
  // notepack: undefined (d4 00 00) is null in arrays and left out of objects;
  // a Date (d7 00 + int64 ms) is its ISO string; keys may be numbers.
  EXPECT_EQ(to_json("\x92\xd4\x00\x00\x82\xa1u\xd4\x00\x00\x01\xa1x"s), R"([null,{"1":"x"}])");
  EXPECT_EQ(to_json("\xd7\x00\x00\x00\x01\x7f\x54\x83\x49\x40"s), R"("2022-03-04T10:39:24.480Z")");
  EXPECT_EQ(to_json("\xa2\x0a\x22"s), R"("\n\"")");
}

TEST(MsgpackJson, RefusesWhatJsonCannotCarry) {
  for (std::string bad : {"\xa2\xc3\x28"s /* invalid UTF-8 */, "\x81\x90\x01"s /* array key */,
                          "\xd4\x05\x00"s /* foreign ext */}) {
    msgpack::object_handle oh = unpack_referencing(bad, 1 << 20);
    std::string out;
    std::vector<std::string> att;
    EXPECT_FALSE(append_json(out, oh.get(), att));
  }
  EXPECT_THROW(unpack_referencing("\x93\x01"s, 1 << 20), std::exception);  // truncated
  EXPECT_THROW(unpack_referencing("\xc1"s, 1 << 20), std::exception);      // never used
  EXPECT_THROW(unpack_referencing("\x01\x02"s, 1 << 20), std::exception);  // trailing
  EXPECT_THROW(unpack_referencing("\xdd\xff\xff\xff\xff"s, 1 << 20), std::exception);
}

// A message announcing more elements than it holds is refused before anything
// is unpacked (msgpack would first reserve room for every announced element).
// The first is cluster_fuzz's: 75 bytes announcing maps of 57,054 pairs about 16
// levels deep, which had the unpacker allocate 136 MB (and take 136 ms) before the fix.
TEST(MsgpackJson, RefusesContainersAnnouncingMoreThanTheMessageHolds) {
  std::string fuzzed = "\x85\x7a"s + std::string(5, '\xde') + "=" + std::string(43, '\xde') +
                       "\xcf\xcf\xcf\x01\x00`p\x00\x0b\xcb\x87\xcf\xcf\xcf\xcf\xcf\xcf\"go:{\"o"s;
  std::string nested;  // 64 maps, each announcing a million pairs: 320 bytes
  for (int i = 0; i < 64; ++i) nested += "\xdf\x00\x0f\x42\x40"s;
  for (const std::string& bad : {fuzzed, nested, "\x92\xc0"s, "\x81\xc0"s, ""s}) {
    EXPECT_FALSE(complete_msgpack(bad));
    try {
      unpack_referencing(bad, 1 << 20);
      ADD_FAILURE() << "unpacked";
    } catch (const msgpack::parse_error& e) {
      EXPECT_STREQ(e.what(), "incomplete, too deeply nested or followed by more bytes");
    }
  }
  std::string deep(64, '\x91');  // 64 nested one-element arrays: as deep as allowed
  EXPECT_TRUE(complete_msgpack(deep + "\xc0"));
  EXPECT_FALSE(complete_msgpack("\x91" + deep + "\xc0"));
  EXPECT_FALSE(complete_msgpack("\x01\x02"s));  // trailing
  const std::string ok = pack(R"({"a":[1,"x",{"b":null}],"c":{}})");
  EXPECT_TRUE(complete_msgpack(ok));
  EXPECT_EQ(to_json(ok), R"({"a":[1,"x",{"b":null}],"c":{}})");
}

}  // namespace
}  // namespace daheim::cluster
