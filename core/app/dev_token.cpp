#include "app/dev_token.hpp"

#include <cjson/cJSON.h>

#include <chrono>
#include <memory>

#include "auth/sign_hs256.hpp"

namespace daheim::app {

std::string make_dev_token(const Config& config, const Arguments& args, std::string& error) {
  const AuthConfig& a = config.auth;
  if (a.dev_secret.empty()) {
    error = "key auth.devSecret: not set, so no development token can be signed";
    return {};
  }
  using namespace std::chrono;
  long long now = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  long long ttl = args.ttl ? *parse_duration(*args.ttl) : 3600;
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> claims(cJSON_CreateObject(), cJSON_Delete);
  cJSON_AddStringToObject(claims.get(), "sub", args.sub->c_str());
  if (args.role)
    cJSON_AddStringToObject(claims.get(), a.verify.role_claim.c_str(), args.role->c_str());
  if (!a.verify.issuers.empty())
    cJSON_AddStringToObject(claims.get(), "iss", a.verify.issuers[0].c_str());
  if (!a.verify.audiences.empty())
    cJSON_AddStringToObject(claims.get(), "aud", a.verify.audiences[0].c_str());
  cJSON_AddNumberToObject(claims.get(), "iat", static_cast<double>(now));
  cJSON_AddNumberToObject(claims.get(), "exp", static_cast<double>(now + ttl));
  std::unique_ptr<char, decltype(&cJSON_free)> text(cJSON_PrintUnformatted(claims.get()),
                                                    cJSON_free);
  return auth::sign_hs256(a.dev_secret, text.get(), args.kid ? *args.kid : std::string());
}

}  // namespace daheim::app
