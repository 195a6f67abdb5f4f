#include "dev/dev_token.hpp"

#include <cjson/cJSON.h>

#include <chrono>
#include <memory>

#include "auth/sign_hs256.hpp"

namespace daheim::dev {

std::string make_dev_token(const auth_middleware::AuthConfig& a, const TokenClaims& args,
                           std::string& error) {
  if (a.dev_secret.empty()) {
    error = "key auth.devSecret: not set, so no development token can be signed";
    return {};
  }
  using namespace std::chrono;
  long long now = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> claims(cJSON_CreateObject(), cJSON_Delete);
  cJSON_AddStringToObject(claims.get(), "sub", args.sub.c_str());
  if (args.role)
    cJSON_AddStringToObject(claims.get(), a.verify.role_claim.c_str(), args.role->c_str());
  if (!a.verify.issuers.empty())
    cJSON_AddStringToObject(claims.get(), "iss", a.verify.issuers[0].c_str());
  if (!a.verify.audiences.empty())
    cJSON_AddStringToObject(claims.get(), "aud", a.verify.audiences[0].c_str());
  cJSON_AddNumberToObject(claims.get(), "iat", static_cast<double>(now));
  cJSON_AddNumberToObject(claims.get(), "exp", static_cast<double>(now + args.ttl_s));
  std::unique_ptr<char, decltype(&cJSON_free)> text(cJSON_PrintUnformatted(claims.get()),
                                                    cJSON_free);
  return auth::sign_hs256(a.dev_secret, text.get(), args.kid);
}

}  // namespace daheim::dev
