// bcrypt against published vectors (crypt_blowfish's and OpenBSD's test
// set, each also checked with npm's bcryptjs, the admin UI's own library).
#include "admin/bcrypt.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace daheim::admin {
namespace {

struct Vector {
  const char* password;
  const char* hash;
};

constexpr Vector kVectors[] = {
    {"U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
    {"U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"},
    {"U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"},
    {"", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"},
    {"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are "
     "ignored",
     "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"},
    // bcryptjs.hashSync("secret", "$2b$04$abcdefghijklmnopqrstuu")
    {"secret", "$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW"},
};

TEST(Bcrypt, PublishedVectorsVerify) {
  for (const Vector& v : kVectors) {
    auto h = parse_bcrypt(v.hash);
    ASSERT_TRUE(h) << v.hash;
    EXPECT_TRUE(bcrypt_verify(v.password, *h)) << v.hash;
    if (std::string_view(v.password).size() < 72) {
      EXPECT_FALSE(bcrypt_verify(std::string(v.password) + "x", *h)) << v.hash;
    }
  }
}

TEST(Bcrypt, HashReproducesTheTextExactly) {
  for (const Vector& v : kVectors) {
    auto h = parse_bcrypt(v.hash);
    ASSERT_TRUE(h);
    EXPECT_EQ(bcrypt_hash(v.password, h->cost, h->salt, h->minor), v.hash);
  }
}

TEST(Bcrypt, OnlyTheFirst72BytesCount) {
  auto h = parse_bcrypt(kVectors[4].hash);
  ASSERT_TRUE(h);
  std::string first72 = std::string(kVectors[4].password).substr(0, 72);
  EXPECT_TRUE(bcrypt_verify(first72, *h));
  EXPECT_FALSE(bcrypt_verify(first72.substr(0, 71), *h));
}

TEST(Bcrypt, VariantsHashAlike) {
  auto b = parse_bcrypt("$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW");
  auto y = parse_bcrypt("$2y$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW");
  ASSERT_TRUE(b && y);
  EXPECT_EQ(y->minor, 'y');
  EXPECT_TRUE(bcrypt_verify("secret", *y));
}

TEST(Bcrypt, MalformedHashesAreRefused) {
  const char* bad[] = {
      "",
      "secret",
      "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",    // broken variant
      "$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",    // cost too low
      "$2a$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",    // cost too high
      "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",     // short
      "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\n",  // long
      "$2a$05$CCCCCCCCCCCCCCCCCCCC!.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",    // alphabet
      "$2a$5x$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
  };
  for (const char* text : bad) EXPECT_FALSE(parse_bcrypt(text)) << text;
}

}  // namespace
}  // namespace daheim::admin
