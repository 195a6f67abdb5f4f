// The webpush plugin's pure parts: RFC 8291's worked example (section 5 and
// the intermediate values of Appendix A) reproduced byte for byte, the VAPID
// JWT checked with OpenSSL's own verifier, subscriptions, the store, and the
// delivery rules (status -> verdict, backoff).
#include "delivery.hpp"
#include "ece.hpp"
#include "memory_store.hpp"
#include "subscription.hpp"
#include "vapid.hpp"

#include <gtest/gtest.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

namespace webpush {
namespace {

// RFC 8291 §5 / Appendix A.
constexpr const char* kPlaintext = "When I grow up, I want to be a watermelon";
constexpr const char* kUaPublic =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
constexpr const char* kUaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
constexpr const char* kAuth = "BTBZMqHH6r4Tts7J_aSIgg";
constexpr const char* kAsPublic =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
constexpr const char* kAsPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
constexpr const char* kSalt = "DGv6ra1nlYgDCS1FRnbzlw";
constexpr const char* kSharedSecret = "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs";
constexpr const char* kIkm = "S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg";
constexpr const char* kPrk = "09_eUZGrsvxChDCGRCdkLiDXrReGOEVeSCdCcPBSJSc";
constexpr const char* kCek = "oIhVW04MRdy2XN9CiKLxTg";
constexpr const char* kNonce = "4h_95klXJ5E_qnoN";
constexpr const char* kBody =
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6T"
    "lzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4"
    "a-fN";

Bytes b64(const char* s) {
  std::optional<Bytes> b = base64url_decode(s);
  EXPECT_TRUE(b.has_value()) << s;
  return b.value_or(Bytes());
}

TEST(Base64Url, RoundTripsAndRefusesOtherCharacters) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(*base64url_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(*base64url_decode("-_8="), "\xfb\xff");  // padding tolerated
  EXPECT_FALSE(base64url_decode("ab!c"));
  EXPECT_FALSE(base64url_decode("abcde"));  // a lone trailing character
}

TEST(Ece, Rfc8291ExampleToTheByte) {
  std::optional<EcKey> sender = EcKey::from_raw(b64(kAsPrivate), b64(kAsPublic));
  ASSERT_TRUE(sender);
  EXPECT_EQ(base64url_encode(sender->public_bytes()), kAsPublic);
  Receiver receiver{b64(kUaPublic), b64(kAuth)};
  std::string error;
  EceTrace trace;
  std::optional<Bytes> body = encrypt(kPlaintext, receiver, *sender, b64(kSalt), error, &trace);
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(base64url_encode(trace.ecdh_secret), kSharedSecret);
  EXPECT_EQ(base64url_encode(trace.ikm), kIkm);
  EXPECT_EQ(base64url_encode(trace.prk), kPrk);
  EXPECT_EQ(base64url_encode(trace.cek), kCek);
  EXPECT_EQ(base64url_encode(trace.nonce), kNonce);
  EXPECT_EQ(base64url_encode(*body), kBody);
  // Header: salt, rs 4096, idlen 65, the sender's key; then 41 + 1 + 16.
  ASSERT_EQ(body->size(), 86u + 41u + 1u + 16u);
  EXPECT_EQ(body->substr(16, 5), Bytes("\x00\x00\x10\x00\x41", 5));
}

TEST(Ece, TheReceiverDerivesTheSameSecret) {
  // ECDH from the user agent's side (its private key, our public key).
  std::optional<EcKey> ua = EcKey::from_raw(b64(kUaPrivate), b64(kUaPublic));
  std::optional<EcKey> as = EcKey::from_raw({}, b64(kAsPublic));
  ASSERT_TRUE(ua && as);
  EXPECT_EQ(base64url_encode(*ua->derive(*as)), kSharedSecret);
}

TEST(Ece, FreshKeysEveryMessage) {
  Receiver receiver{b64(kUaPublic), b64(kAuth)};
  std::string error;
  std::optional<Bytes> a = encrypt(kPlaintext, receiver, error);
  std::optional<Bytes> b = encrypt(kPlaintext, receiver, error);
  ASSERT_TRUE(a && b) << error;
  EXPECT_EQ(a->size(), b->size());
  EXPECT_NE(a->substr(0, 16), b->substr(0, 16));    // salt
  EXPECT_NE(a->substr(21, 65), b->substr(21, 65));  // sender key
}

TEST(Ece, RefusesBadInput) {
  std::string error;
  Receiver receiver{b64(kUaPublic), b64(kAuth)};
  EXPECT_FALSE(encrypt(std::string(kMaxPlaintext + 1, 'x'), receiver, error));
  EXPECT_NE(error.find("3993"), std::string::npos) << error;
  EXPECT_TRUE(encrypt(std::string(kMaxPlaintext, 'x'), receiver, error)) << error;
  Bytes off_curve = b64(kUaPublic);
  off_curve[64] = static_cast<char>(off_curve[64] ^ 1);
  EXPECT_FALSE(encrypt("x", Receiver{off_curve, b64(kAuth)}, error));
  EXPECT_EQ(error, "p256dh is not a P-256 public key");
  EXPECT_FALSE(encrypt("x", Receiver{b64(kUaPublic), "short"}, error));
}

TEST(Vapid, OriginOfAnEndpoint) {
  EXPECT_EQ(origin_of("https://fcm.googleapis.com/fcm/send/abc"), "https://fcm.googleapis.com");
  EXPECT_EQ(origin_of("https://127.0.0.1:8443/push/1?x#y"), "https://127.0.0.1:8443");
  EXPECT_EQ(origin_of("https://h"), "https://h");
  EXPECT_EQ(origin_of("ftp://h/x"), "");
  EXPECT_EQ(origin_of("https://user@h/x"), "");
  EXPECT_EQ(origin_of("no url"), "");
}

// Verifies a JWS ES256 signature (r || s) with OpenSSL's verifier.
bool verify_es256(const EcKey& key, std::string_view input, const Bytes& sig) {
  if (sig.size() != 64) return false;
  auto* u = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* s = ECDSA_SIG_new();
  ECDSA_SIG_set0(s, BN_bin2bn(u, 32, nullptr), BN_bin2bn(u + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(s, &der);
  ECDSA_SIG_free(s);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
      EVP_DigestVerify(ctx, der, static_cast<std::size_t>(der_len),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  return ok;
}

TEST(Vapid, SignsAnEs256JwtForTheOrigin) {
  std::optional<EcKey> key = EcKey::from_raw(b64(kAsPrivate), b64(kAsPublic));
  ASSERT_TRUE(key);
  Vapid vapid(std::move(*key), "mailto:ops@example.org");
  EXPECT_EQ(vapid.public_key(), kAsPublic);
  std::optional<std::string> h = vapid.authorization("https://push.example:8443/p/1", 1700000000);
  ASSERT_TRUE(h);
  ASSERT_TRUE(h->starts_with("vapid t="));
  std::string suffix = std::string(", k=") + kAsPublic;
  ASSERT_TRUE(h->ends_with(suffix));
  std::string jwt = h->substr(8, h->size() - 8 - suffix.size());
  std::size_t d1 = jwt.find('.'), d2 = jwt.rfind('.');
  EXPECT_EQ(*base64url_decode(jwt.substr(0, d1)), R"({"typ":"JWT","alg":"ES256"})");
  EXPECT_EQ(
      *base64url_decode(jwt.substr(d1 + 1, d2 - d1 - 1)),
      R"({"aud":"https://push.example:8443","exp":1700000000,"sub":"mailto:ops@example.org"})");
  std::optional<EcKey> pub = EcKey::from_raw({}, b64(kAsPublic));
  EXPECT_TRUE(verify_es256(*pub, jwt.substr(0, d2), *base64url_decode(jwt.substr(d2 + 1))));
  EXPECT_FALSE(verify_es256(*pub, jwt.substr(0, d2) + "x", *base64url_decode(jwt.substr(d2 + 1))));
  EXPECT_FALSE(vapid.authorization("not a url", 1));
}

TEST(Subscription, ParsesWhatBrowsersSend) {
  std::string error;
  auto j = dhl::Json::parse(
      std::string(R"({"endpoint":"https://push.example/x","expirationTime":null,)") +
      R"("keys":{"p256dh":")" + kUaPublic + R"(","auth":")" + kAuth + R"("}})");
  ASSERT_TRUE(j);
  std::optional<Subscription> s = parse_subscription(*j, false, error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->endpoint, "https://push.example/x");
  EXPECT_EQ(s->keys.p256dh, b64(kUaPublic));
  EXPECT_EQ(s->to_json().dump(),
            std::string(R"({"endpoint":"https://push.example/x","keys":{"p256dh":")") + kUaPublic +
                R"(","auth":")" + kAuth + R"("}})");
}

TEST(Subscription, RefusesEachBadField) {
  std::string error;
  auto sub = [](std::string endpoint, std::string p256dh, std::string auth) {
    return dhl::Json::object({{"endpoint", endpoint},
                              {"keys", dhl::Json::object({{"p256dh", p256dh}, {"auth", auth}})}});
  };
  EXPECT_FALSE(parse_subscription(sub("http://push.example/x", kUaPublic, kAuth), false, error));
  EXPECT_NE(error.find("endpoint"), std::string::npos);
  EXPECT_TRUE(parse_subscription(sub("http://push.example/x", kUaPublic, kAuth), true, error));
  EXPECT_FALSE(
      parse_subscription(sub("https://" + std::string(2048, 'a'), kUaPublic, kAuth), false, error));
  EXPECT_FALSE(parse_subscription(sub("https://p/x", kAsPrivate, kAuth), false, error));
  EXPECT_NE(error.find("p256dh"), std::string::npos);
  EXPECT_FALSE(
      parse_subscription(sub("https://p/x", kUaPublic, kSalt + std::string("AA")), false, error));
  EXPECT_NE(error.find("auth"), std::string::npos);
  EXPECT_FALSE(parse_subscription(dhl::Json("x"), false, error));
}

Subscription sub_at(std::string endpoint) {
  return Subscription{std::move(endpoint), Receiver{b64(kUaPublic), b64(kAuth)}};
}

std::vector<std::string> endpoints(MemoryStore& store, std::string_view user) {
  std::vector<std::string> out;
  store.list(user, [&](std::vector<Subscription> subs) {
    for (auto& s : subs) out.push_back(s.endpoint);
  });
  return out;
}

TEST(MemoryStore, PerUserLimitDropsTheOldestAndAnEndpointHasOneOwner) {
  MemoryStore store(2, 3);
  EXPECT_TRUE(store.add("a", sub_at("https://p/1")));
  EXPECT_TRUE(store.add("a", sub_at("https://p/2")));
  EXPECT_TRUE(store.add("a", sub_at("https://p/1")));  // renewed: now the newest
  EXPECT_EQ(endpoints(store, "a"), (std::vector<std::string>{"https://p/2", "https://p/1"}));
  EXPECT_TRUE(store.add("a", sub_at("https://p/3")));  // drops p/2
  EXPECT_EQ(endpoints(store, "a"), (std::vector<std::string>{"https://p/1", "https://p/3"}));
  EXPECT_TRUE(store.add("b", sub_at("https://p/1")));  // another user on that browser
  EXPECT_EQ(endpoints(store, "a"), (std::vector<std::string>{"https://p/3"}));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.add("c", sub_at("https://p/4")));
  EXPECT_FALSE(store.add("d", sub_at("https://p/5")));  // full (3)
  EXPECT_TRUE(store.remove("c", "https://p/4"));
  EXPECT_FALSE(store.remove("c", "https://p/4"));
  EXPECT_TRUE(endpoints(store, "c").empty());
  EXPECT_EQ(store.size(), 2u);
}

TEST(Delivery, ClassifiesPushServiceAnswers) {
  auto v = [](long status) { return classify(PushResponse{status, std::nullopt, {}}); };
  EXPECT_EQ(v(201), Verdict::Delivered);
  EXPECT_EQ(v(404), Verdict::Gone);
  EXPECT_EQ(v(410), Verdict::Gone);
  EXPECT_EQ(v(429), Verdict::Retry);
  EXPECT_EQ(v(500), Verdict::Retry);
  EXPECT_EQ(v(503), Verdict::Retry);
  EXPECT_EQ(v(0), Verdict::Retry);  // no answer (connection refused, timeout)
  EXPECT_EQ(v(400), Verdict::Failed);
  EXPECT_EQ(v(403), Verdict::Failed);  // VAPID refused
  EXPECT_EQ(v(413), Verdict::Failed);
}

TEST(Delivery, BackoffDoublesUpToTheCapAndHonoursRetryAfter) {
  using ms = std::chrono::milliseconds;
  EXPECT_EQ(backoff(1, ms(100), ms(1000), std::nullopt), ms(100));
  EXPECT_EQ(backoff(2, ms(100), ms(1000), std::nullopt), ms(200));
  EXPECT_EQ(backoff(4, ms(100), ms(1000), std::nullopt), ms(800));
  EXPECT_EQ(backoff(5, ms(100), ms(1000), std::nullopt), ms(1000));
  EXPECT_EQ(backoff(60, ms(100), ms(1000), std::nullopt), ms(1000));
  EXPECT_EQ(backoff(1, ms(100), ms(60000), 3), ms(3000));
  EXPECT_EQ(backoff(1, ms(100), ms(1000), 3600), ms(1000));
}

TEST(Delivery, RequestHeaders) {
  std::optional<EcKey> key = EcKey::generate();
  ASSERT_TRUE(key);
  Vapid vapid(std::move(*key), "mailto:a@b.c");
  Message m{"42", sub_at("https://push.example/s/1"), "{}", 120, "high", "ready", 0};
  std::string error;
  std::optional<PushRequest> r = build_request(m, vapid, 1000, 3600, error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->endpoint, "https://push.example/s/1");
  ASSERT_EQ(r->headers.size(), 7u);
  EXPECT_EQ(r->headers[0], "Content-Type: application/octet-stream");
  EXPECT_EQ(r->headers[1], "Content-Encoding: aes128gcm");
  EXPECT_EQ(r->headers[2], "TTL: 120");
  EXPECT_EQ(r->headers[3], "Urgency: high");
  EXPECT_TRUE(r->headers[4].starts_with("Authorization: vapid t=ey"));
  EXPECT_EQ(r->headers[5], "Expect:");
  EXPECT_EQ(r->headers[6], "Topic: ready");
  EXPECT_EQ(r->body.size(), 86u + 2u + 1u + 16u);
}

}  // namespace
}  // namespace webpush
