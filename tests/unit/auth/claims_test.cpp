// Claim rules and leeway, with tokens from sign_hs256 and a fixed clock.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "auth/key_store.hpp"
#include "auth/sign_hs256.hpp"
#include "auth/verifier.hpp"
#include "auth_test_util.hpp"

namespace daheim::auth {
namespace {

using test::kSecret;
using test::outcome;

constexpr int64_t kNow = 1700000000;

std::shared_ptr<const KeyStore> hs256_store() {
  KeyStore store;
  std::string error;
  auto key = Key::from_secret(kSecret, Algorithm::HS256, "", error);
  EXPECT_TRUE(key) << error;
  EXPECT_TRUE(store.add(std::move(*key), error)) << error;
  return std::make_shared<const KeyStore>(std::move(store));
}

class Claims : public ::testing::Test {
 protected:
  std::variant<User, AuthError> check(const std::string& claims, int64_t now = kNow) {
    Verifier verifier(hs256_store(), options);
    return verifier.verify(sign_hs256(kSecret, claims), now);
  }
  std::string result(const std::string& claims, int64_t now = kNow) {
    return outcome(check(claims, now));
  }
  static std::string with(const std::string& member) { return R"({"sub":"alice",)" + member + "}"; }
  static std::string at(const char* name, int64_t t) {
    return with("\"" + std::string(name) + "\":" + std::to_string(t));
  }

  VerifyOptions options;
};

TEST_F(Claims, NoTimeClaimsAreAccepted) {
  EXPECT_EQ(result(R"({"sub":"alice"})"), "ok");
}

TEST_F(Claims, ExpiryHonoursTheLeeway) {
  options.leeway_s = 30;
  EXPECT_EQ(result(at("exp", kNow + 1)), "ok");
  EXPECT_EQ(result(at("exp", kNow)), "ok");
  EXPECT_EQ(result(at("exp", kNow - 29)), "ok");
  EXPECT_EQ(result(at("exp", kNow - 30)), "token_expired");  // now >= exp + leeway
  EXPECT_EQ(result(at("exp", kNow - 31)), "token_expired");
}

TEST_F(Claims, ExpiryWithoutLeeway) {
  options.leeway_s = 0;
  EXPECT_EQ(result(at("exp", kNow + 1)), "ok");
  EXPECT_EQ(result(at("exp", kNow)), "token_expired");
}

TEST_F(Claims, NegativeLeewayCountsAsZero) {
  options.leeway_s = -100;
  EXPECT_EQ(result(at("exp", kNow + 1)), "ok");
  EXPECT_EQ(result(at("nbf", kNow)), "ok");
  EXPECT_EQ(result(at("exp", kNow)), "token_expired");
}

TEST_F(Claims, NotBeforeHonoursTheLeeway) {
  options.leeway_s = 30;
  EXPECT_EQ(result(at("nbf", kNow - 1000)), "ok");
  EXPECT_EQ(result(at("nbf", kNow + 30)), "ok");
  EXPECT_EQ(result(at("nbf", kNow + 31)), "token_not_yet_valid");
  options.leeway_s = 0;
  EXPECT_EQ(result(at("nbf", kNow)), "ok");
  EXPECT_EQ(result(at("nbf", kNow + 1)), "token_not_yet_valid");
}

TEST_F(Claims, IssuedInTheFutureIsNotYetValid) {
  options.leeway_s = 30;
  EXPECT_EQ(result(at("iat", kNow + 30)), "ok");
  EXPECT_EQ(result(at("iat", kNow + 31)), "token_not_yet_valid");
}

TEST_F(Claims, FractionalTimesCompareExactly) {
  options.leeway_s = 0;
  EXPECT_EQ(result(with(R"("exp":1700000000.5)")), "ok");
  EXPECT_EQ(result(with(R"("exp":1699999999.5)")), "token_expired");
  EXPECT_EQ(result(with(R"("nbf":1700000000.5)")), "token_not_yet_valid");
}

TEST_F(Claims, ExpiryIsCheckedBeforeNotBefore) {
  EXPECT_EQ(result(with(R"("exp":1,"nbf":4000000000)")), "token_expired");
}

TEST_F(Claims, TimeClaimsMustBeNumbers) {
  EXPECT_EQ(result(with(R"("exp":"1700003600")")), "malformed");
  EXPECT_EQ(result(with(R"("exp":null)")), "malformed");
  EXPECT_EQ(result(with(R"("nbf":true)")), "malformed");
  EXPECT_EQ(result(with(R"("iat":[1])")), "malformed");
  EXPECT_EQ(result(with(R"("exp":{})")), "malformed");
}

TEST_F(Claims, ExtremeTimesDoNotOverflow) {
  auto user = std::get<User>(check(with(R"("exp":1e300)")));
  EXPECT_EQ(user.expires_at, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(result(with(R"("exp":-1e300)")), "token_expired");
  EXPECT_EQ(result(with(R"("nbf":1e300)")), "token_not_yet_valid");
  options.leeway_s = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(result(with(R"("exp":-1e300)")), "token_expired");
  EXPECT_EQ(result(at("exp", kNow - 1000000)), "ok");
}

TEST_F(Claims, ExpiresAtIsExpRoundedDown) {
  EXPECT_EQ(std::get<User>(check(at("exp", kNow + 60))).expires_at, kNow + 60);
  EXPECT_EQ(std::get<User>(check(with(R"("exp":1700000060.9)"))).expires_at, kNow + 60);
  EXPECT_EQ(std::get<User>(check(R"({"sub":"alice"})")).expires_at, 0);
}

TEST_F(Claims, MaximumAgeNeedsIat) {
  options.max_age_s = 300;
  options.leeway_s = 30;
  EXPECT_EQ(result(at("iat", kNow - 300)), "ok");
  EXPECT_EQ(result(at("iat", kNow - 329)), "ok");
  EXPECT_EQ(result(at("iat", kNow - 330)), "token_expired");
  EXPECT_EQ(result(R"({"sub":"alice"})"), "malformed");
}

TEST_F(Claims, MaximumAgeAppliesEvenWithALaterExp) {
  options.max_age_s = 300;
  options.leeway_s = 0;
  EXPECT_EQ(result(with(R"("iat":1699999000,"exp":1800000000)")), "token_expired");
}

TEST_F(Claims, IssuerIsCheckedOnlyWhenConfigured) {
  EXPECT_EQ(result(with(R"("iss":"anyone")")), "ok");
  EXPECT_EQ(result(with(R"("iss":5)")), "ok");
  options.issuers = {"https://a.test", "https://b.test"};
  EXPECT_EQ(result(with(R"("iss":"https://b.test")")), "ok");
  EXPECT_EQ(result(with(R"("iss":"https://c.test")")), "invalid_issuer");
  EXPECT_EQ(result(with(R"("iss":"https://a.test/")")), "invalid_issuer");
  EXPECT_EQ(result(with(R"("iss":["https://a.test"])")), "invalid_issuer");
  EXPECT_EQ(result(R"({"sub":"alice"})"), "invalid_issuer");
}

TEST_F(Claims, AudienceIsCheckedOnlyWhenConfigured) {
  EXPECT_EQ(result(with(R"("aud":"x")")), "ok");
  options.audiences = {"daheim-live", "realtime"};
  EXPECT_EQ(result(with(R"("aud":"realtime")")), "ok");
  EXPECT_EQ(result(with(R"("aud":["other","daheim-live"])")), "ok");
  EXPECT_EQ(result(with(R"("aud":[1,null,{},"realtime"])")), "ok");
  EXPECT_EQ(result(with(R"("aud":"other")")), "invalid_audience");
  EXPECT_EQ(result(with(R"("aud":[])")), "invalid_audience");
  EXPECT_EQ(result(with(R"("aud":["other"])")), "invalid_audience");
  EXPECT_EQ(result(with(R"("aud":5)")), "invalid_audience");
  EXPECT_EQ(result(R"({"sub":"alice"})"), "invalid_audience");
}

TEST_F(Claims, ValidityIsCheckedBeforeIssuerAndAudience) {
  options.issuers = {"i"};
  options.audiences = {"a"};
  EXPECT_EQ(result(with(R"("exp":1,"iss":"x","aud":"y")")), "token_expired");
  EXPECT_EQ(result(with(R"("iss":"x","aud":"y")")), "invalid_issuer");
  EXPECT_EQ(result(with(R"("iss":"i","aud":"y")")), "invalid_audience");
}

TEST_F(Claims, UserIdComesFromSubThenId) {
  EXPECT_EQ(std::get<User>(check(R"({"sub":"alice","id":"bob"})")).id, "alice");
  EXPECT_EQ(std::get<User>(check(R"({"id":"bob"})")).id, "bob");
  EXPECT_EQ(std::get<User>(check(R"({"sub":"","id":"bob"})")).id, "bob");
  EXPECT_EQ(std::get<User>(check(R"({"id":42})")).id, "42");
  EXPECT_EQ(std::get<User>(check(R"({"id":-7})")).id, "-7");
  EXPECT_EQ(std::get<User>(check(R"({"id":9007199254740992})")).id, "9007199254740992");
  EXPECT_EQ(result(R"({"id":1.5})"), "malformed");
  EXPECT_EQ(result(R"({"id":1e300})"), "malformed");
  EXPECT_EQ(result(R"({"sub":{"id":"x"}})"), "malformed");
  EXPECT_EQ(result(R"({"sub":null})"), "malformed");
  EXPECT_EQ(result(R"({"role":"teacher"})"), "malformed");
}

TEST_F(Claims, UserIdAndRoleClaimsAreConfigurable) {
  options.user_id_claims = {"uid"};
  options.role_claim = "https://daheim.test/role";
  auto user = std::get<User>(check(R"({"sub":"alice","uid":"u1","https://daheim.test/role":"t"})"));
  EXPECT_EQ(user.id, "u1");
  EXPECT_EQ(user.role, "t");
  EXPECT_EQ(result(R"({"sub":"alice"})"), "malformed");
}

TEST_F(Claims, RoleIsAStringOrEmpty) {
  EXPECT_EQ(std::get<User>(check(R"({"sub":"a","role":"student"})")).role, "student");
  EXPECT_EQ(std::get<User>(check(R"({"sub":"a"})")).role, "");
  EXPECT_EQ(std::get<User>(check(R"({"sub":"a","role":["teacher"]})")).role, "");
}

TEST_F(Claims, ClaimsJsonIsTheSignedTextVerbatim) {
  std::string claims = R"({ "sub" : "alice", "n": 1.50, "nested": {"x": [1, 2]}, "u": "\u00e9" })";
  EXPECT_EQ(std::get<User>(check(claims)).claims_json, claims);
}

TEST_F(Claims, ClaimsMustBeOneJsonObject) {
  EXPECT_EQ(result(R"(["sub","alice"])"), "malformed");
  EXPECT_EQ(result(R"("alice")"), "malformed");
  EXPECT_EQ(result(R"({"sub":"alice"} {})"), "malformed");
  EXPECT_EQ(result(R"({"sub":"alice",})"), "malformed");
  EXPECT_EQ(result(R"({"sub":"alice")"), "malformed");
  EXPECT_EQ(result(""), "malformed");
  EXPECT_EQ(result(R"({"sub":"alice","sub":"mallory"})"), "malformed");
  EXPECT_EQ(result("{\"sub\":\"al\x01ice\"}"), "malformed");     // raw control character
  EXPECT_EQ(result("{\"sub\":\"al\xffice\"}"), "malformed");     // not UTF-8
  EXPECT_EQ(result("{\"sub\":\"\xed\xa0\x80\"}"), "malformed");  // UTF-8 encoded surrogate
  EXPECT_EQ(result("{\"sub\":\"\xc0\xaf\"}"), "malformed");      // overlong
  EXPECT_EQ(std::get<User>(check("{\"sub\":\"\xf0\x9f\x98\x80\"}")).id, "\xf0\x9f\x98\x80");
  EXPECT_EQ(result("\t{\"sub\":\"alice\"}\r\n"), "ok");
}

TEST_F(Claims, NestingIsLimited) {
  auto nested = [](int depth) {  // the claims object itself is level 1
    return R"({"sub":"alice","d":)" + std::string(depth - 1, '[') + std::string(depth - 1, ']') +
           "}";
  };
  EXPECT_EQ(result(nested(32)), "ok");
  EXPECT_EQ(result(nested(33)), "malformed");
  EXPECT_EQ(result(nested(5000)), "malformed");
  // Brackets inside strings do not count.
  EXPECT_EQ(result(R"({"sub":"alice","s":")" + std::string(100, '[') + R"("})"), "ok");
  EXPECT_EQ(result(R"({"sub":"alice","s":"\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})"), "ok");
  options.max_json_depth = 2;
  EXPECT_EQ(result(nested(2)), "ok");
  EXPECT_EQ(result(nested(3)), "malformed");
}

TEST_F(Claims, TokenSizeIsLimited) {
  options.max_token_size = 8192;
  auto token_with = [](std::size_t n) {
    return sign_hs256(kSecret, R"({"sub":"alice","f":")" + std::string(n, 'x') + "\"}");
  };
  std::size_t n = 6000;
  while (token_with(n + 1).size() <= 8192) ++n;
  std::string at_limit = token_with(n);
  std::string over = token_with(n + 1);
  EXPECT_GE(at_limit.size(), 8190u);
  EXPECT_LE(at_limit.size(), 8192u);
  EXPECT_GT(over.size(), 8192u);
  Verifier verifier(hs256_store(), options);
  EXPECT_EQ(outcome(verifier.verify(at_limit, kNow)), "ok");
  EXPECT_EQ(outcome(verifier.verify(over, kNow)), "malformed");
  options.max_token_size = 120;
  EXPECT_EQ(result(R"({"sub":"alice"})"), "ok");
  EXPECT_EQ(result(R"({"sub":"alice","pad":")" + std::string(60, 'p') + "\"}"), "malformed");
}

TEST(SignHs256, MakesACompactJwsWithTheStandardHeader) {
  std::string token = sign_hs256(kSecret, R"({"sub":"alice"})");
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  EXPECT_EQ(base64url_decode(token.substr(0, first)), R"({"alg":"HS256","typ":"JWT"})");
  EXPECT_EQ(base64url_decode(token.substr(first + 1, second - first - 1)), R"({"sub":"alice"})");
  EXPECT_EQ(token, test::hmac_token(R"({"alg":"HS256","typ":"JWT"})", R"({"sub":"alice"})"));
}

TEST(SignHs256, KnownAnswer) {
  // RFC 7515 Appendix A.1 payload and key, with our header.
  std::string key = *base64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  std::string payload =
      "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
  std::string token = sign_hs256(key, payload);
  EXPECT_EQ(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1),
            "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ij"
            "p0cnVlfQ");
  // The same key and input as the RFC's signing input give the RFC's signature.
  std::string rfc_input =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ";
  KeyStore store;
  std::string error;
  ASSERT_TRUE(store.add(*Key::from_secret(key, Algorithm::HS256, "", error), error));
  VerifyOptions options;
  options.user_id_claims = {"iss"};
  Verifier verifier(std::make_shared<const KeyStore>(std::move(store)), options);
  auto user =
      verifier.verify(rfc_input + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", 1300819000);
  ASSERT_EQ(outcome(user), "ok");
  EXPECT_EQ(std::get<User>(user).id, "joe");
  EXPECT_EQ(outcome(verifier.verify(token, 1300819000)), "ok");
  EXPECT_EQ(outcome(verifier.verify(token, 1300819380 + 30)), "token_expired");
}

TEST(SignHs256, PutsAnEscapedKidInTheHeader) {
  std::string token = sign_hs256(kSecret, "{}", "dev \"1\"");
  EXPECT_EQ(base64url_decode(token.substr(0, token.find('.'))),
            R"({"alg":"HS256","typ":"JWT","kid":"dev \"1\""})");
}

TEST(AuthErrorCode, GivesTheWireStrings) {
  EXPECT_EQ(code(AuthError::token_expired), "token_expired");
  EXPECT_EQ(code(AuthError::token_not_yet_valid), "token_not_yet_valid");
  EXPECT_EQ(code(AuthError::invalid_signature), "invalid_signature");
  EXPECT_EQ(code(AuthError::invalid_audience), "invalid_audience");
  EXPECT_EQ(code(AuthError::invalid_issuer), "invalid_issuer");
  EXPECT_EQ(code(AuthError::malformed), "malformed");
  EXPECT_EQ(code(AuthError::unknown_key), "unknown_key");
  EXPECT_EQ(code(AuthError::algorithm_not_allowed), "algorithm_not_allowed");
  EXPECT_EQ(code(AuthError::missing_token), "missing_token");
}

}  // namespace
}  // namespace daheim::auth
