// Keys: PEM and certificate import, JWKS parsing, HMAC secrets, loading from files.
#include "auth/key_store.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "auth/verifier.hpp"
#include "auth_test_util.hpp"
#include "test_keys.hpp"

namespace daheim::auth {
namespace {

using test::outcome;

constexpr int64_t kNow = 1700000000;
constexpr std::string_view kClaims = R"({"sub":"alice","exp":1700003600})";

struct Keys {
  test::Pkey rsa = test::rsa_key();
  test::Pkey ec256 = test::ec_key("P-256");
  test::Pkey ec384 = test::ec_key("P-384");
  test::Pkey ed = test::ed25519_key();
};
const Keys& keys() {
  static const Keys k;
  return k;
}

std::string verify_with(KeyStore store, const std::string& token) {
  Verifier verifier(std::make_shared<const KeyStore>(std::move(store)), VerifyOptions{});
  return outcome(verifier.verify(token, kNow));
}

std::string verify_one(const Key& key, const std::string& token) {
  KeyStore store;
  std::string error;
  EXPECT_TRUE(store.add(key, error)) << error;
  return verify_with(std::move(store), token);
}

EVP_PKEY* private_for(Algorithm alg) {
  switch (alg) {
    case Algorithm::ES256:
      return keys().ec256.get();
    case Algorithm::ES384:
      return keys().ec384.get();
    case Algorithm::EdDSA:
      return keys().ed.get();
    default:
      return keys().rsa.get();
  }
}

class PemRoundTrip : public ::testing::TestWithParam<Algorithm> {};

TEST_P(PemRoundTrip, VerifiesItsOwnAlgorithmOnly) {
  Algorithm alg = GetParam();
  EVP_PKEY* priv = private_for(alg);
  std::string error;
  auto key = Key::from_pem(test::public_pem(priv), alg, "k", error);
  ASSERT_TRUE(key) << error;
  EXPECT_EQ(key->alg(), alg);
  EXPECT_EQ(verify_one(*key, test::signed_token(priv, alg, kClaims, "k")), "ok");
  EXPECT_EQ(verify_one(*key, test::signed_token(priv, alg, kClaims)), "ok");
  // Tampered claims.
  std::string token = test::signed_token(priv, alg, kClaims);
  std::string other = test::signed_token(priv, alg, R"({"sub":"mallory"})");
  std::string forged = token.substr(0, token.find('.')) +
                       other.substr(other.find('.'), other.rfind('.') - other.find('.')) +
                       token.substr(token.rfind('.'));
  EXPECT_EQ(verify_one(*key, forged), "invalid_signature");
  // Same key, different algorithm in the header.
  Algorithm wrong = alg == Algorithm::RS256 ? Algorithm::PS256 : Algorithm::RS256;
  if (alg == Algorithm::ES256 || alg == Algorithm::ES384 || alg == Algorithm::EdDSA) {
    wrong = Algorithm::HS256;
  }
  std::string header = R"({"alg":")" + std::string(name(wrong)) + R"(","kid":"k"})";
  std::string swapped = base64url_encode(header) + token.substr(token.find('.'));
  EXPECT_EQ(verify_one(*key, swapped), "algorithm_not_allowed");
}

INSTANTIATE_TEST_SUITE_P(AllPublicKeyAlgorithms, PemRoundTrip,
                         ::testing::Values(Algorithm::RS256, Algorithm::RS384, Algorithm::RS512,
                                           Algorithm::PS256, Algorithm::PS384, Algorithm::PS512,
                                           Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA),
                         [](const auto& param_info) {
                           return std::string(name(param_info.param));
                         });

TEST(Key, EcdsaSignatureMustBeRawAndExactLength) {
  std::string error;
  auto key = Key::from_pem(test::public_pem(keys().ec256.get()), Algorithm::ES256, "", error);
  ASSERT_TRUE(key) << error;
  std::string token = test::signed_token(keys().ec256.get(), Algorithm::ES256, kClaims);
  std::string input = token.substr(0, token.rfind('.'));
  std::string raw = *base64url_decode(token.substr(token.rfind('.') + 1));
  ASSERT_EQ(raw.size(), 64u);
  EXPECT_TRUE(key->verify(input, raw));
  EXPECT_FALSE(key->verify(input, raw.substr(0, 63)));
  EXPECT_FALSE(key->verify(input, raw + '\0'));
  EXPECT_FALSE(key->verify(input, std::string(64, '\0')));
  EXPECT_FALSE(key->verify(input, std::string(64, '\xff')));
  EXPECT_FALSE(key->verify(input, ""));
}

TEST(Key, AcceptsACertificate) {
  std::string error;
  auto key = Key::from_pem(test::certificate_pem(keys().ec256.get()), Algorithm::ES256, "c", error);
  ASSERT_TRUE(key) << error;
  EXPECT_EQ(verify_one(*key, test::signed_token(keys().ec256.get(), Algorithm::ES256, kClaims)),
            "ok");
}

TEST(Key, RefusesPrivateKeysAndGarbage) {
  std::string error;
  EXPECT_FALSE(Key::from_pem(test::private_pem(keys().rsa.get()), Algorithm::RS256, "", error));
  EXPECT_NE(error.find("private key"), std::string::npos) << error;
  EXPECT_FALSE(Key::from_pem("", Algorithm::RS256, "", error));
  EXPECT_FALSE(Key::from_pem("hello", Algorithm::RS256, "", error));
  EXPECT_EQ(error, "not a PEM public key or certificate");
}

TEST(Key, PinsTheKeyTypeToTheAlgorithm) {
  std::string error;
  std::string rsa = test::public_pem(keys().rsa.get());
  std::string ec = test::public_pem(keys().ec256.get());
  std::string ed = test::public_pem(keys().ed.get());
  EXPECT_FALSE(Key::from_pem(rsa, Algorithm::ES256, "", error));
  EXPECT_FALSE(Key::from_pem(rsa, Algorithm::HS256, "", error));
  EXPECT_FALSE(Key::from_pem(ec, Algorithm::ES384, "", error));
  EXPECT_EQ(error, "ES384 needs an EC P-384 key (got EC)");
  EXPECT_FALSE(Key::from_pem(ec, Algorithm::EdDSA, "", error));
  EXPECT_FALSE(Key::from_pem(ed, Algorithm::RS256, "", error));
  EXPECT_TRUE(Key::from_pem(ec, Algorithm::ES256, "", error)) << error;
}

TEST(Key, RefusesSmallRsaKeys) {
  auto small = test::rsa_key(1024);
  std::string error;
  EXPECT_FALSE(Key::from_pem(test::public_pem(small.get()), Algorithm::RS256, "", error));
  EXPECT_EQ(error, "RSA key has 1024 bits; at least 2048 are required");
}

TEST(Key, SecretLengthFollowsRfc7518) {
  std::string error;
  EXPECT_TRUE(Key::from_secret(std::string(32, 's'), Algorithm::HS256, "", error));
  EXPECT_FALSE(Key::from_secret(std::string(31, 's'), Algorithm::HS256, "", error));
  EXPECT_EQ(error, "the secret has 31 bytes; HS256 needs at least 32");
  EXPECT_FALSE(Key::from_secret(std::string(47, 's'), Algorithm::HS384, "", error));
  EXPECT_TRUE(Key::from_secret(std::string(48, 's'), Algorithm::HS384, "", error));
  EXPECT_FALSE(Key::from_secret(std::string(63, 's'), Algorithm::HS512, "", error));
  EXPECT_TRUE(Key::from_secret(std::string(64, 's'), Algorithm::HS512, "", error));
  EXPECT_FALSE(Key::from_secret(std::string(64, 's'), Algorithm::RS256, "", error));
}

TEST(Key, HmacComparesTheWholeMac) {
  std::string error;
  auto key = Key::from_secret(test::kSecret, Algorithm::HS256, "", error);
  std::string token = test::hmac_token(R"({"alg":"HS256"})", "{}");
  std::string input = token.substr(0, token.rfind('.'));
  std::string mac = *base64url_decode(token.substr(token.rfind('.') + 1));
  EXPECT_TRUE(key->verify(input, mac));
  EXPECT_FALSE(key->verify(input, mac.substr(0, 16)));
  EXPECT_FALSE(key->verify(input, mac + "x"));
  EXPECT_FALSE(key->verify(input, ""));
  mac[31] ^= 1;
  EXPECT_FALSE(key->verify(input, mac));
}

// ---- JWKS ----------------------------------------------------------------------------------

std::string oct_jwk(std::string_view kid, std::string_view secret, std::string_view extra = {}) {
  return R"({"kty":"oct","kid":")" + std::string(kid) + R"(","k":")" + base64url_encode(secret) +
         '"' + std::string(extra) + "}";
}

std::string ec_jwk(EVP_PKEY* key, const char* crv, std::string_view extra = {}) {
  std::string point = test::octet_param(key, OSSL_PKEY_PARAM_PUB_KEY);  // 04 || x || y
  std::size_t n = (point.size() - 1) / 2;
  return R"({"kty":"EC","crv":")" + std::string(crv) + R"(","x":")" +
         base64url_encode(point.substr(1, n)) + R"(","y":")" +
         base64url_encode(point.substr(1 + n)) + '"' + std::string(extra) + "}";
}

std::string rsa_jwk(EVP_PKEY* key, std::string_view extra = {}) {
  return R"({"kty":"RSA","n":")" + test::bn_param_b64(key, OSSL_PKEY_PARAM_RSA_N) + R"(","e":")" +
         test::bn_param_b64(key, OSSL_PKEY_PARAM_RSA_E) + '"' + std::string(extra) + "}";
}

std::string okp_jwk(EVP_PKEY* key, std::string_view extra = {}) {
  return R"({"kty":"OKP","crv":"Ed25519","x":")" +
         base64url_encode(test::octet_param(key, OSSL_PKEY_PARAM_PUB_KEY)) + '"' +
         std::string(extra) + "}";
}

std::string jwks(std::initializer_list<std::string> entries) {
  std::string out = R"({"keys":[)";
  for (const auto& e : entries) out += (out.back() == '[' ? "" : ",") + e;
  return out + "]}";
}

TEST(Jwks, InfersAlgorithmsFromKeyTypes) {
  KeyStore store;
  std::string error;
  ASSERT_TRUE(store.add_jwks(
      jwks({rsa_jwk(keys().rsa.get(), R"(,"kid":"rsa")"),
            ec_jwk(keys().ec256.get(), "P-256", R"(,"kid":"p256")"),
            ec_jwk(keys().ec384.get(), "P-384", R"(,"kid":"p384")"),
            okp_jwk(keys().ed.get(), R"(,"kid":"ed")"), oct_jwk("oct", test::kSecret)}),
      "keys.json", error))
      << error;
  ASSERT_EQ(store.keys().size(), 5u);
  EXPECT_EQ(store.find("rsa")->alg(), Algorithm::RS256);
  EXPECT_EQ(store.find("p256")->alg(), Algorithm::ES256);
  EXPECT_EQ(store.find("p384")->alg(), Algorithm::ES384);
  EXPECT_EQ(store.find("ed")->alg(), Algorithm::EdDSA);
  EXPECT_EQ(store.find("oct")->alg(), Algorithm::HS256);
  EXPECT_EQ(store.find("nope"), nullptr);
  EXPECT_EQ(store.find(""), nullptr);

  auto shared = std::make_shared<const KeyStore>(std::move(store));
  Verifier verifier(shared, VerifyOptions{});
  EXPECT_EQ(outcome(verifier.verify(
                test::signed_token(keys().ec384.get(), Algorithm::ES384, kClaims, "p384"), kNow)),
            "ok");
  EXPECT_EQ(outcome(verifier.verify(
                test::signed_token(keys().ed.get(), Algorithm::EdDSA, kClaims, "ed"), kNow)),
            "ok");
  EXPECT_EQ(
      outcome(verifier.verify(test::hmac_token(R"({"alg":"HS256","kid":"oct"})", kClaims), kNow)),
      "ok");
  auto user =
      verifier.verify(test::signed_token(keys().rsa.get(), Algorithm::RS256, kClaims, "rsa"), kNow);
  ASSERT_EQ(outcome(user), "ok");
  EXPECT_EQ(std::get<User>(user).kid, "rsa");
}

TEST(Jwks, AlgMemberPinsTheAlgorithm) {
  KeyStore store;
  std::string error;
  ASSERT_TRUE(store.add_jwks(jwks({rsa_jwk(keys().rsa.get(), R"(,"kid":"ps","alg":"PS384")"),
                                   oct_jwk("h5", std::string(64, 'k'), R"(,"alg":"HS512")")}),
                             "k", error))
      << error;
  EXPECT_EQ(store.find("ps")->alg(), Algorithm::PS384);
  EXPECT_EQ(store.find("h5")->alg(), Algorithm::HS512);
}

TEST(Jwks, SkipsKeysNotForSignatures) {
  KeyStore store;
  std::string error;
  ASSERT_TRUE(store.add_jwks(jwks({oct_jwk("enc", test::kSecret, R"(,"use":"enc")"),
                                   oct_jwk("sig", test::kSecret, R"(,"use":"sig")")}),
                             "k", error))
      << error;
  EXPECT_EQ(store.keys().size(), 1u);
  EXPECT_EQ(store.find("enc"), nullptr);
}

TEST(Jwks, KeysWithoutKidAreSelectedByAlgorithm) {
  KeyStore store;
  std::string error;
  ASSERT_TRUE(store.add_jwks(jwks({ec_jwk(keys().ec256.get(), "P-256")}), "k", error)) << error;
  EXPECT_EQ(verify_with(std::move(store),
                        test::signed_token(keys().ec256.get(), Algorithm::ES256, kClaims)),
            "ok");
}

std::string jwks_error(const std::string& json) {
  KeyStore store;
  std::string error;
  EXPECT_FALSE(store.add_jwks(json, "f.json", error));
  EXPECT_TRUE(store.empty());
  return error;
}

TEST(Jwks, ReportsWhatIsWrongAndWhere) {
  EXPECT_EQ(jwks_error("{"), "f.json: not valid JSON");
  EXPECT_EQ(jwks_error("[]"), R"(f.json: not a JWKS (an object with a "keys" array))");
  EXPECT_EQ(jwks_error(R"({"keys":{}})"), R"(f.json: not a JWKS (an object with a "keys" array))");
  EXPECT_EQ(jwks_error(R"({"keys":[]})"), "f.json: holds no signing keys");
  EXPECT_EQ(jwks_error(jwks({oct_jwk("e", test::kSecret, R"(,"use":"enc")")})),
            "f.json: holds no signing keys");
  EXPECT_EQ(jwks_error(R"({"keys":[1]})"), "f.json: key #0: not a JSON object");
  EXPECT_EQ(jwks_error(R"({"keys":[{"k":"AAAA"}]})"), "f.json: key #0: member 'kty' is missing");
  EXPECT_EQ(jwks_error(R"({"keys":[{"kty":"XYZ"}]})"), "f.json: key #0: unsupported kty 'XYZ'");
  EXPECT_EQ(jwks_error(R"({"keys":[{"kty":"oct","kid":1,"k":"AAAA"}]})"),
            "f.json: key #0: kty, use, kid, alg and crv must be strings");
  EXPECT_EQ(jwks_error(jwks({oct_jwk("a", test::kSecret), oct_jwk("a", test::kSecret)})),
            "f.json: key #1: duplicate kid 'a'");
  EXPECT_EQ(jwks_error(jwks({oct_jwk("a", "short")})),
            "f.json: key #0: the secret has 5 bytes; HS256 needs at least 32");
  EXPECT_EQ(jwks_error(jwks({oct_jwk("a", test::kSecret, R"(,"alg":"none")")})),
            "f.json: key #0: unsupported alg 'none'");
  EXPECT_EQ(jwks_error(jwks({oct_jwk("a", test::kSecret, R"(,"alg":"RS256")")})),
            "f.json: key #0: RS256 needs a public key, not an HMAC secret");
  EXPECT_EQ(jwks_error(R"({"keys":[{"kty":"oct","k":"AA=="}]})"),
            "f.json: key #0: member 'k' is not base64url");
  EXPECT_EQ(jwks_error(R"({"keys":[{"kty":"RSA","e":"AQAB"}]})"),
            "f.json: key #0: member 'n' is missing or not a string");
  EXPECT_EQ(jwks_error(jwks({rsa_jwk(keys().rsa.get(), R"(,"alg":"ES256")")})),
            "f.json: key #0: ES256 needs an EC P-256 key (got RSA)");
  EXPECT_EQ(jwks_error(jwks({ec_jwk(keys().ec256.get(), "P-521")})),
            "f.json: key #0: unsupported EC curve (P-256 and P-384 are supported)");
  EXPECT_EQ(jwks_error(jwks({ec_jwk(keys().ec384.get(), "P-256")})),
            "f.json: key #0: coordinates of a P-256 key must be 32 bytes");
  EXPECT_EQ(jwks_error(jwks({ec_jwk(keys().ec256.get(), "P-256", R"(,"d":"AAAA")")})),
            "f.json: key #0: holds private key material ('d'); give only the public key");
  EXPECT_EQ(jwks_error(R"({"keys":[{"kty":"OKP","crv":"Ed448","x":"AAAA"}]})"),
            "f.json: key #0: unsupported OKP curve (Ed25519 is supported)");
  EXPECT_EQ(jwks_error(R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]})"),
            "f.json: key #0: an Ed25519 key must be 32 bytes");
  EXPECT_EQ(jwks_error(jwks(
                {oct_jwk("x", test::kSecret, "," + std::string(40, '[') + std::string(40, ']'))})),
            "f.json: not valid JSON");
}

TEST(Jwks, RefusesAPointNotOnTheCurve) {
  std::string x(32, '\x01'), y(32, '\x02');
  std::string jwk = R"({"kty":"EC","crv":"P-256","x":")" + base64url_encode(x) + R"(","y":")" +
                    base64url_encode(y) + R"("})";
  EXPECT_EQ(jwks_error(jwks({jwk})), "f.json: key #0: not a valid P-256 public key");
}

TEST(Jwks, RefusesSmallOrBrokenRsaKeys) {
  auto small = test::rsa_key(1024);
  EXPECT_EQ(jwks_error(jwks({rsa_jwk(small.get())})),
            "f.json: key #0: RSA key has 1024 bits; at least 2048 are required");
  std::string e_is_one = R"({"kty":"RSA","n":")" + test::bn_param_b64(keys().rsa.get(), "n") +
                         R"(","e":"AQ"})";  // e = 1
  EXPECT_NE(jwks_error(jwks({e_is_one})).find("f.json: key #0: "), std::string::npos);
}

TEST(Jwks, AFailedDocumentLeavesTheStoreUnchanged) {
  KeyStore store;
  std::string error;
  ASSERT_TRUE(store.add_jwks(jwks({oct_jwk("a", test::kSecret)}), "one", error));
  EXPECT_FALSE(store.add_jwks(jwks({oct_jwk("b", test::kSecret), oct_jwk("a", test::kSecret)}),
                              "two", error));
  EXPECT_EQ(error, "two: key #1: duplicate kid 'a'");
  EXPECT_EQ(store.keys().size(), 1u);
  EXPECT_EQ(store.find("b"), nullptr);
}

TEST(Jwks, ErrorsDoNotEchoControlCharacters) {
  EXPECT_EQ(jwks_error(R"({"keys":[{"kty":"a\nb"}]})"), "f.json: key #0: unsupported kty 'a?b'");
}

// ---- files ---------------------------------------------------------------------------------

class KeyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "auth_keys_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(KeyFiles, EmptyConfigGivesAnEmptyStore) {
  std::string error;
  auto store = KeyStore::load(KeyConfig{}, error);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->empty());
}

TEST_F(KeyFiles, LoadsEveryKind) {
  KeyConfig config;
  config.hmac_secret_files.push_back({write("dev.secret", std::string(test::kSecret) + "\r\n")});
  config.pem_files.push_back({write("rsa.pem", test::public_pem(keys().rsa.get())), "RS256", "r"});
  config.jwks_files.push_back(
      write("keys.json", jwks({okp_jwk(keys().ed.get(), R"(,"kid":"e")")})));
  std::string error;
  auto store = KeyStore::load(config, error);
  ASSERT_TRUE(store) << error;
  EXPECT_EQ(store->keys().size(), 3u);
  // The trailing CR/LF is not part of the secret.
  EXPECT_EQ(verify_with(*store, test::hmac_token(R"({"alg":"HS256"})", kClaims)), "ok");
}

TEST_F(KeyFiles, ErrorsNameTheFileButNeverTheSecret) {
  KeyConfig config;
  std::string path = write("short.secret", "hunter2-is-my-password\n");
  config.hmac_secret_files.push_back({path});
  std::string error;
  EXPECT_FALSE(KeyStore::load(config, error));
  EXPECT_EQ(error, path + ": the secret has 22 bytes; HS256 needs at least 32");
  EXPECT_EQ(error.find("hunter2"), std::string::npos);
}

TEST_F(KeyFiles, MissingAndOversizedFiles) {
  KeyConfig config;
  config.jwks_files.push_back((dir_ / "missing.json").string());
  std::string error;
  EXPECT_FALSE(KeyStore::load(config, error));
  EXPECT_EQ(error, (dir_ / "missing.json").string() + ": cannot open: No such file or directory");
  config.jwks_files = {write("big.json", std::string((1 << 20) + 1, ' '))};
  EXPECT_FALSE(KeyStore::load(config, error));
  EXPECT_EQ(error, config.jwks_files[0] + ": larger than 1 MiB");
}

TEST_F(KeyFiles, PemNeedsAnAlgorithm) {
  KeyConfig config;
  config.pem_files.push_back({write("k.pem", test::public_pem(keys().ec256.get())), "", ""});
  std::string error;
  EXPECT_FALSE(KeyStore::load(config, error));
  EXPECT_EQ(error, config.pem_files[0].path + ": alg is required for a PEM key");
}

TEST_F(KeyFiles, DuplicateKidsAcrossFilesAreRefused) {
  KeyConfig config;
  config.hmac_secret_files.push_back({write("a.secret", std::string(test::kSecret)), "HS256", "x"});
  config.jwks_files.push_back(write("k.json", jwks({oct_jwk("x", test::kSecret)})));
  std::string error;
  EXPECT_FALSE(KeyStore::load(config, error));
  EXPECT_EQ(error, config.jwks_files[0] + ": key #0: duplicate kid 'x'");
}

}  // namespace
}  // namespace daheim::auth
