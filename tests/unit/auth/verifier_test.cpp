// Token structure, key selection, algorithm pinning and reload.
#include "auth/verifier.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "auth/sign_hs256.hpp"
#include "auth_test_util.hpp"
#include "test_keys.hpp"

namespace daheim::auth {
namespace {

using test::hmac_token;
using test::kSecret;
using test::outcome;

constexpr int64_t kNow = 1700000000;
constexpr std::string_view kClaims = R"({"sub":"alice","role":"student","exp":1700003600})";
const std::string kOtherSecret(32, 'o');

Key hmac(std::string_view secret, Algorithm alg = Algorithm::HS256, std::string kid = "") {
  std::string error;
  auto key = Key::from_secret(secret, alg, std::move(kid), error);
  EXPECT_TRUE(key) << error;
  return *key;
}

std::shared_ptr<const KeyStore> store_of(std::initializer_list<Key> keys) {
  KeyStore store;
  std::string error;
  for (const auto& k : keys) EXPECT_TRUE(store.add(k, error)) << error;
  return std::make_shared<const KeyStore>(std::move(store));
}

const test::Pkey& rsa() {
  static const test::Pkey key = test::rsa_key();
  return key;
}

Key rsa_public(std::string kid = "", Algorithm alg = Algorithm::RS256) {
  std::string error;
  auto key = Key::from_pem(test::public_pem(rsa().get()), alg, std::move(kid), error);
  EXPECT_TRUE(key) << error;
  return *key;
}

class VerifierTest : public ::testing::Test {
 protected:
  std::string result(const std::string& token) { return outcome(verifier.verify(token, kNow)); }
  Verifier verifier{store_of({hmac(kSecret), rsa_public("rsa")}), VerifyOptions{}};
};

TEST_F(VerifierTest, AcceptsAGoodToken) {
  auto user = verifier.verify(sign_hs256(kSecret, kClaims), kNow);
  ASSERT_EQ(outcome(user), "ok");
  EXPECT_EQ(std::get<User>(user).id, "alice");
  EXPECT_EQ(std::get<User>(user).role, "student");
  EXPECT_EQ(std::get<User>(user).expires_at, 1700003600);
  EXPECT_EQ(std::get<User>(user).claims_json, kClaims);
  EXPECT_EQ(std::get<User>(user).kid, "");
}

TEST_F(VerifierTest, EmptyTokenIsMissing) {
  EXPECT_EQ(result(""), "missing_token");
}

TEST_F(VerifierTest, RefusesBrokenStructure) {
  std::string good = sign_hs256(kSecret, kClaims);
  std::string h = good.substr(0, good.find('.'));
  EXPECT_EQ(result("."), "malformed");
  EXPECT_EQ(result(".."), "malformed");
  EXPECT_EQ(result("..."), "malformed");
  EXPECT_EQ(result("abc"), "malformed");
  EXPECT_EQ(result(h), "malformed");
  EXPECT_EQ(result(good.substr(0, good.rfind('.'))), "malformed");
  EXPECT_EQ(result(good + "."), "malformed");
  EXPECT_EQ(result("." + good), "malformed");
  EXPECT_EQ(result(good + ".e30"), "malformed");
  EXPECT_EQ(result(" " + good), "malformed");
  EXPECT_EQ(result(good + "\n"), "malformed");
  EXPECT_EQ(result("Bearer " + good), "malformed");
  EXPECT_EQ(result(std::string(good).replace(3, 1, "=")), "malformed");
  EXPECT_EQ(result(std::string(good).insert(good.find('.') + 1, "+")), "malformed");
  EXPECT_EQ(result(h + "..sig"), "malformed");  // empty claims
}

TEST_F(VerifierTest, RefusesBadHeaders) {
  EXPECT_EQ(result(hmac_token("not json", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token("", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token(R"(["HS256"])", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token(R"("HS256")", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token(R"({})", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token(R"({"alg":null})", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token(R"({"alg":["HS256"]})", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token(R"({"alg":"HS256","kid":1})", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token(R"({"alg":"HS256","crit":["exp"],"exp":1})", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token(R"({"alg":"HS256","b64":false,"crit":["b64"]})", kClaims)),
            "malformed");
  EXPECT_EQ(result(hmac_token(R"({"alg":"none","alg":"HS256"})", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token(R"({"alg":"HS256"}x)", kClaims)), "malformed");
  EXPECT_EQ(result(hmac_token("{\"alg\":\"HS256\",\"x\":\"\x80\"}", kClaims)), "malformed");
  EXPECT_EQ(
      result(hmac_token(
          R"({"alg":"HS256","x":)" + std::string(40, '[') + std::string(40, ']') + "}", kClaims)),
      "malformed");
  // Unknown members are fine, and the header need not say typ.
  EXPECT_EQ(result(hmac_token(R"({"alg":"HS256","typ":"at+jwt","x5t":"abc","zip":1})", kClaims)),
            "ok");
}

TEST_F(VerifierTest, RefusesAlgNoneInEveryForm) {
  for (const char* alg : {"none", "None", "NONE", "nOnE", ""}) {
    std::string header = R"({"alg":")" + std::string(alg) + R"("})";
    std::string unsigned_token = base64url_encode(header) + "." + base64url_encode(kClaims) + ".";
    EXPECT_EQ(result(unsigned_token), "algorithm_not_allowed") << alg;
    EXPECT_EQ(result(hmac_token(header, kClaims)), "algorithm_not_allowed") << alg;
  }
  std::string with_kid = R"({"alg":"none","kid":"rsa"})";
  EXPECT_EQ(result(base64url_encode(with_kid) + "." + base64url_encode(kClaims) + "."),
            "algorithm_not_allowed");
}

TEST_F(VerifierTest, RefusesUnsupportedAlgorithms) {
  for (const char* alg : {"ES512", "ES256K", "Ed25519", "HS1", "RS1", "hs256", "HS256 ", "EDDSA"}) {
    EXPECT_EQ(result(hmac_token(R"({"alg":")" + std::string(alg) + R"("})", kClaims)),
              "algorithm_not_allowed")
        << alg;
  }
}

TEST_F(VerifierTest, HmacTokenKeyedWithTheRsaPublicKeyIsRefused) {
  std::string pem = test::public_pem(rsa().get());
  // By kid: the key is pinned to RS256.
  EXPECT_EQ(result(hmac_token(R"({"alg":"HS256","kid":"rsa"})", kClaims, pem)),
            "algorithm_not_allowed");
  // Without kid: only the HS256 secret is tried, and it does not match.
  EXPECT_EQ(result(hmac_token(R"({"alg":"HS256"})", kClaims, pem)), "invalid_signature");
  // With only RSA keys, there is no HS256 key at all.
  Verifier rsa_only(store_of({rsa_public()}), VerifyOptions{});
  EXPECT_EQ(outcome(rsa_only.verify(hmac_token(R"({"alg":"HS256"})", kClaims, pem), kNow)),
            "algorithm_not_allowed");
  EXPECT_EQ(
      outcome(rsa_only.verify(test::signed_token(rsa().get(), Algorithm::RS256, kClaims), kNow)),
      "ok");
}

TEST_F(VerifierTest, KidSelectsExactlyOneKey) {
  Verifier v(
      store_of({hmac(kSecret, Algorithm::HS256, "a"), hmac(kOtherSecret, Algorithm::HS256, "b")}),
      VerifyOptions{});
  auto ok = v.verify(hmac_token(R"({"alg":"HS256","kid":"b"})", kClaims, kOtherSecret), kNow);
  ASSERT_EQ(outcome(ok), "ok");
  EXPECT_EQ(std::get<User>(ok).kid, "b");
  // Signed with a's secret but naming b: no fallback to other keys.
  EXPECT_EQ(outcome(v.verify(hmac_token(R"({"alg":"HS256","kid":"b"})", kClaims), kNow)),
            "invalid_signature");
  EXPECT_EQ(outcome(v.verify(hmac_token(R"({"alg":"HS256","kid":"c"})", kClaims), kNow)),
            "unknown_key");
  EXPECT_EQ(outcome(v.verify(hmac_token(R"({"alg":"HS256","kid":""})", kClaims), kNow)),
            "unknown_key");
  // Kid-less tokens try every key pinned to the header alg.
  auto any = v.verify(hmac_token(R"({"alg":"HS256"})", kClaims, kOtherSecret), kNow);
  ASSERT_EQ(outcome(any), "ok");
  EXPECT_EQ(std::get<User>(any).kid, "b");
}

TEST_F(VerifierTest, KeyPinnedToAnotherAlgorithm) {
  Verifier v(store_of({hmac(kSecret, Algorithm::HS256, "h"), rsa_public("r", Algorithm::PS256)}),
             VerifyOptions{});
  EXPECT_EQ(outcome(v.verify(hmac_token(R"({"alg":"HS384","kid":"h"})", kClaims, kSecret, "SHA384"),
                             kNow)),
            "algorithm_not_allowed");
  EXPECT_EQ(
      outcome(v.verify(test::signed_token(rsa().get(), Algorithm::RS256, kClaims, "r"), kNow)),
      "algorithm_not_allowed");
  EXPECT_EQ(
      outcome(v.verify(test::signed_token(rsa().get(), Algorithm::PS256, kClaims, "r"), kNow)),
      "ok");
  EXPECT_EQ(outcome(v.verify(test::signed_token(rsa().get(), Algorithm::PS256, kClaims), kNow)),
            "ok");
  EXPECT_EQ(outcome(v.verify(test::signed_token(rsa().get(), Algorithm::RS256, kClaims), kNow)),
            "algorithm_not_allowed");
}

TEST_F(VerifierTest, RotationWithoutKid) {
  Verifier v(store_of({hmac(kSecret), hmac(kOtherSecret)}), VerifyOptions{});
  EXPECT_EQ(outcome(v.verify(sign_hs256(kSecret, kClaims), kNow)), "ok");
  EXPECT_EQ(outcome(v.verify(sign_hs256(kOtherSecret, kClaims), kNow)), "ok");
  EXPECT_EQ(outcome(v.verify(sign_hs256(std::string(32, 'z'), kClaims), kNow)),
            "invalid_signature");
}

TEST_F(VerifierTest, SignatureIsCheckedBeforeClaims) {
  std::string expired = R"({"sub":"alice","exp":1})";
  EXPECT_EQ(result(sign_hs256(kOtherSecret, expired)), "invalid_signature");
  EXPECT_EQ(result(sign_hs256(kSecret, expired)), "token_expired");
  EXPECT_EQ(result(sign_hs256(kOtherSecret, "not json")), "invalid_signature");
  EXPECT_EQ(result(sign_hs256(kSecret, "not json")), "malformed");
}

TEST_F(VerifierTest, SignatureBitFlipsAreRefused) {
  std::string token = sign_hs256(kSecret, kClaims);
  std::string sig = *base64url_decode(token.substr(token.rfind('.') + 1));
  std::string input = token.substr(0, token.rfind('.'));
  for (std::size_t i = 0; i < sig.size(); ++i) {
    std::string bad = sig;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_EQ(result(input + "." + base64url_encode(bad)), "invalid_signature") << i;
  }
}

TEST(VerifierKeys, EmptyOrNullStoreKnowsNoKey) {
  Verifier empty(std::make_shared<const KeyStore>(), VerifyOptions{});
  EXPECT_EQ(outcome(empty.verify(sign_hs256(kSecret, kClaims), kNow)), "unknown_key");
  Verifier null(nullptr, VerifyOptions{});
  EXPECT_EQ(outcome(null.verify(sign_hs256(kSecret, kClaims), kNow)), "unknown_key");
  EXPECT_EQ(outcome(null.verify(hmac_token(R"({"alg":"none"})", kClaims), kNow)),
            "algorithm_not_allowed");
  EXPECT_EQ(outcome(null.verify("", kNow)), "missing_token");
}

TEST(VerifierKeys, SetKeysSwapsTheStoreForLaterTokens) {
  auto old_keys = store_of({hmac(kSecret, Algorithm::HS256, "2023")});
  auto new_keys = store_of({hmac(kOtherSecret, Algorithm::HS256, "2024")});
  Verifier v(old_keys, VerifyOptions{});
  std::string old_token = hmac_token(R"({"alg":"HS256","kid":"2023"})", kClaims);
  std::string new_token = hmac_token(R"({"alg":"HS256","kid":"2024"})", kClaims, kOtherSecret);
  auto user = v.verify(old_token, kNow);
  ASSERT_EQ(outcome(user), "ok");
  EXPECT_EQ(outcome(v.verify(new_token, kNow)), "unknown_key");
  v.set_keys(new_keys);
  EXPECT_EQ(v.keys(), new_keys);
  EXPECT_EQ(outcome(v.verify(new_token, kNow)), "ok");
  EXPECT_EQ(outcome(v.verify(old_token, kNow)), "unknown_key");
  // A User verified earlier is plain data and stays valid; the old store lives on while shared.
  EXPECT_EQ(std::get<User>(user).id, "alice");
  EXPECT_EQ(Verifier(old_keys, VerifyOptions{}).verify(old_token, kNow).index(), 0u);
}

TEST(VerifierRobustness, RandomAndMutatedInputNeverCrashOrPass) {
  Verifier v(store_of({hmac(kSecret)}), VerifyOptions{});
  std::string good = sign_hs256(kSecret, kClaims);
  std::mt19937 rng(12345);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00\xff";
  for (int i = 0; i < 20000; ++i) {
    std::string t = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t pos = rng() % t.size();
      switch (rng() % 3) {
        case 0:
          t[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          t.erase(pos, 1 + rng() % 8);
          break;
        default:
          t.insert(pos, 1, alphabet[rng() % alphabet.size()]);
      }
      if (t.empty()) t = "x";
    }
    auto r = v.verify(t, kNow);
    if (t != good && r.index() == 0) {
      // Only an equivalent token can pass: same header, claims and MAC.
      EXPECT_EQ(std::get<User>(r).claims_json, kClaims) << t;
    }
  }
}

}  // namespace
}  // namespace daheim::auth
