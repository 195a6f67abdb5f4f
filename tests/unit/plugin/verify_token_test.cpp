// The host API's verify_token (ABI 1.2): what the plugin gets back for a
// token the server's verifier accepts or refuses, and without a verifier.
#include <gtest/gtest.h>

#include <string>

#include "harness.hpp"
#include "plugin/context.hpp"
#include "plugin/host.hpp"
#include "plugin/host_api.hpp"
#include "plugin_test_util.hpp"

namespace daheim::testing {
namespace {

dhl_str s(std::string_view v) {
  return {v.data(), v.size()};
}
std::string text(dhl_str v) {
  return v.ptr ? std::string(v.ptr, v.len) : std::string("<absent>");
}

class VerifyTokenTest : public ::testing::Test {
 protected:
  VerifyTokenTest() { ctx.host = &host; }

  int verify(std::string_view token, dhl_str audience) {
    return plugin::host_api().verify_token(&ctx, s(token), audience, &claims, &error);
  }

  Harness h;
  ManualInbox inbox;
  plugin::Host host{h.server, inbox};
  dhl_ctx ctx;
  dhl_str claims{nullptr, 0};
  dhl_str error{nullptr, 0};
  std::string seen_token, seen_audience;
};

TEST_F(VerifyTokenTest, IsInTheTableAfterTargetCount) {
  const dhl_host& api = plugin::host_api();
  EXPECT_GE(api.abi_minor, 2u);  // 1.2 brought it; later minors append after it
  EXPECT_TRUE(DHL_HOST_HAS(&api, verify_token));
}

TEST_F(VerifyTokenTest, WithoutAuthTheServerVerifiesNothing) {
  EXPECT_EQ(verify("a.b.c", s("push")), DHL_ERR_NOTFOUND);
}

TEST_F(VerifyTokenTest, AcceptedTokenGivesItsClaims) {
  host.set_token_verifier([this](std::string_view token, std::string_view audience) {
    seen_token = token;
    seen_audience = audience;
    return plugin::TokenCheck{true, R"({"sub":"api","aud":"push"})", {}};
  });
  EXPECT_EQ(verify("h.c.s", s("push")), DHL_OK);
  EXPECT_EQ(seen_token, "h.c.s");
  EXPECT_EQ(seen_audience, "push");
  EXPECT_EQ(text(claims), R"({"sub":"api","aud":"push"})");
  EXPECT_EQ(text(error), "<absent>");
}

TEST_F(VerifyTokenTest, AbsentAudienceKeepsTheConfiguredOnes) {
  host.set_token_verifier([this](std::string_view, std::string_view audience) {
    seen_audience = audience;
    return plugin::TokenCheck{true, "{}", {}};
  });
  seen_audience = "unset";
  EXPECT_EQ(verify("h.c.s", {nullptr, 0}), DHL_OK);
  EXPECT_EQ(seen_audience, "");
}

TEST_F(VerifyTokenTest, RefusedTokenGivesTheCode) {
  host.set_token_verifier([](std::string_view, std::string_view) {
    return plugin::TokenCheck{false, {}, "token_expired"};
  });
  EXPECT_EQ(verify("h.c.s", s("push")), DHL_ERR_REFUSED);
  EXPECT_EQ(text(error), "token_expired");
  EXPECT_EQ(text(claims), "<absent>");
}

TEST_F(VerifyTokenTest, OutputPointersAreOptional) {
  host.set_token_verifier([](std::string_view, std::string_view) {
    return plugin::TokenCheck{false, {}, "malformed"};
  });
  EXPECT_EQ(plugin::host_api().verify_token(&ctx, s("x"), s("push"), nullptr, nullptr),
            DHL_ERR_REFUSED);
}

}  // namespace
}  // namespace daheim::testing
