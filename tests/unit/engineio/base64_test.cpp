#include "engineio/base64.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engineio/sid.hpp"

namespace daheim::engineio {
namespace {

// RFC 4648 §10 test vectors.
const std::vector<std::pair<std::string, std::string>> kRfcVectors = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64, EncodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : kRfcVectors) {
    EXPECT_EQ(base64_encode(plain), encoded) << "input '" << plain << "'";
  }
}

TEST(Base64, DecodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : kRfcVectors) {
    auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << "input '" << encoded << "'";
    EXPECT_EQ(*decoded, plain) << "input '" << encoded << "'";
  }
}

TEST(Base64, EngineIoBinaryExample) {
  const std::string bytes("\x01\x02\x03\x04", 4);
  EXPECT_EQ(base64_encode(bytes), "AQIDBA==");
  auto decoded = base64_decode("AQIDBA==");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, bytes);
}

TEST(Base64, UsesStandardAlphabetNotUrlSafe) {
  // 0xfb 0xff 0xfe -> 111110 111111 111111 111110 -> "+//+"
  EXPECT_EQ(base64_encode(std::string("\xfb\xff\xfe", 3)), "+//+");
  EXPECT_EQ(base64_encode(std::string("\xff\xff", 2)), "//8=");
  EXPECT_EQ(base64_encode(std::string("\xfb", 1)), "+w==");
  auto decoded = base64_decode("+//+");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, std::string("\xfb\xff\xfe", 3));
  // The url-safe characters are not part of the standard alphabet.
  EXPECT_FALSE(base64_decode("-__-").has_value());
  EXPECT_FALSE(base64_decode("Zm9-").has_value());
  EXPECT_FALSE(base64_decode("Zm9_").has_value());
}

TEST(Base64, KeepsNulBytes) {
  const std::string bytes("\x00\x00\x00\x00\x01", 5);
  EXPECT_EQ(base64_encode(bytes), "AAAAAAE=");
  auto decoded = base64_decode("AAAAAAE=");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->size(), 5u);
  EXPECT_EQ(*decoded, bytes);
}

TEST(Base64, EncodeAppendKeepsWhatIsAlreadyThere) {
  std::string out = "b";
  base64_encode_append(std::string("\x01\x02\x03\x04", 4), out);
  EXPECT_EQ(out, "bAQIDBA==");
  base64_encode_append("", out);
  EXPECT_EQ(out, "bAQIDBA==");
  base64_encode_append("foo", out);
  EXPECT_EQ(out, "bAQIDBA==Zm9v");
}

TEST(Base64, RoundTripsEveryByteValueAtEveryLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t len = 0; len <= all.size(); ++len) {
    std::string in = all.substr(all.size() - len);  // ends with 0xff
    std::string enc = base64_encode(in);
    EXPECT_EQ(enc.size(), (len + 2) / 3 * 4) << "len " << len;
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec.has_value()) << "len " << len;
    EXPECT_EQ(*dec, in) << "len " << len;
  }
}

TEST(Base64, DecodeEmptyIsEmpty) {
  auto decoded = base64_decode("");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(decoded->empty());
}

TEST(Base64, DecodeRejectsLengthsNotMultipleOfFour) {
  for (const char* in : {"A", "AA", "AAA", "Zg=", "Zg", "Zm9", "Zm9vY", "Zm9vYg=", "Zm9vYg"}) {
    EXPECT_FALSE(base64_decode(in).has_value()) << "input '" << in << "'";
  }
}

TEST(Base64, DecodeRejectsCharactersOutsideTheAlphabet) {
  for (std::string in : {"Zm9v!A==", "Zm 9", "Zm9v\n", "Zm.v",
                         "Zm9v\x1e"
                         "AAA",
                         "*AAA", "AA\x80=", "Zm\xffv"}) {
    EXPECT_FALSE(base64_decode(in).has_value()) << "input '" << in << "'";
  }
  EXPECT_FALSE(base64_decode(std::string("Zm\0v", 4)).has_value());
}

TEST(Base64, DecodeRejectsMisplacedPadding) {
  for (const char* in :
       {"====", "A===", "=AAA", "A=AA", "AA=A", "Zg==Zg==", "Zm9v====", "Zm=v", "Zg==AAAA"}) {
    EXPECT_FALSE(base64_decode(in).has_value()) << "input '" << in << "'";
  }
}

TEST(Sid, IdsAreTwentyBase64UrlCharacters) {
  static constexpr std::string_view kUrlAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  EXPECT_EQ(kIdLength, 20u);
  for (int i = 0; i < 100; ++i) {
    std::string id = generate_id();
    ASSERT_EQ(id.size(), 20u) << id;
    EXPECT_EQ(id.find_first_not_of(kUrlAlphabet), std::string::npos) << id;
  }
}

TEST(Sid, IdsAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) seen.insert(generate_id());
  EXPECT_EQ(seen.size(), 5000u);
}

TEST(Sid, IdsUseTheWholeAlphabet) {
  // 2000 ids = 40000 characters; each of the 64 characters is missing with
  // probability (63/64)^40000, i.e. never unless the encoding is broken.
  std::set<char> chars;
  for (int i = 0; i < 2000; ++i)
    for (char c : generate_id()) chars.insert(c);
  EXPECT_EQ(chars.size(), 64u);
  EXPECT_TRUE(chars.count('-'));
  EXPECT_TRUE(chars.count('_'));
  EXPECT_FALSE(chars.count('+'));
  EXPECT_FALSE(chars.count('/'));
  EXPECT_FALSE(chars.count('='));
}

}  // namespace
}  // namespace daheim::engineio
