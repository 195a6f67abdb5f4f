#include "auth/verifier.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "auth/base64url.hpp"
#include "auth/json_parse.hpp"

namespace daheim::auth {
namespace {

// Largest integer a double holds exactly; ids beyond it are not taken from numbers.
constexpr double kMaxExactInteger = 9007199254740992.0;

struct NumericClaim {
  bool present = false;
  bool valid = true;
  double value = 0;
};

NumericClaim numeric_claim(const cJSON* claims, const char* name) {
  NumericClaim c;
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(claims, name);
  if (item == nullptr) return c;
  c.present = true;
  c.valid = cJSON_IsNumber(item) && std::isfinite(item->valuedouble);
  c.value = c.valid ? item->valuedouble : 0;
  return c;
}

int64_t to_unix_seconds(double v) {
  if (v >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(std::floor(v));
}

bool contains(const std::vector<std::string>& list, const char* s) {
  for (const auto& item : list) {
    if (item == s) return true;
  }
  return false;
}

bool audience_ok(const cJSON* aud, const std::vector<std::string>& accepted) {
  if (cJSON_IsString(aud)) return contains(accepted, aud->valuestring);
  if (!cJSON_IsArray(aud)) return false;
  for (const cJSON* item = aud->child; item != nullptr; item = item->next) {
    if (cJSON_IsString(item) && contains(accepted, item->valuestring)) return true;
  }
  return false;
}

std::optional<std::string> user_id(const cJSON* claims, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    const cJSON* item = cJSON_GetObjectItemCaseSensitive(claims, name.c_str());
    if (cJSON_IsString(item) && item->valuestring[0] != '\0') return std::string(item->valuestring);
    if (cJSON_IsNumber(item) && std::isfinite(item->valuedouble) &&
        std::floor(item->valuedouble) == item->valuedouble &&
        std::fabs(item->valuedouble) <= kMaxExactInteger) {
      return std::to_string(static_cast<int64_t>(item->valuedouble));
    }
  }
  return std::nullopt;
}

// A JSON object text with no duplicate top-level members, or nullptr.
CjsonPtr parse_object(const std::string& text, int max_depth) {
  CjsonPtr doc = parse_json(text, max_depth);
  if (!doc || !cJSON_IsObject(doc.get()) || has_duplicate_member(doc.get())) return nullptr;
  return doc;
}

std::variant<User, AuthError> check_claims(const cJSON* claims, const VerifyOptions& opt,
                                           int64_t now_unix) {
  NumericClaim exp = numeric_claim(claims, "exp");
  NumericClaim nbf = numeric_claim(claims, "nbf");
  NumericClaim iat = numeric_claim(claims, "iat");
  if (!exp.valid || !nbf.valid || !iat.valid) return AuthError::malformed;
  if (opt.max_age_s && !iat.present) return AuthError::malformed;

  const double now = static_cast<double>(now_unix);
  const double leeway = static_cast<double>(opt.leeway_s > 0 ? opt.leeway_s : 0);
  if (exp.present && now >= exp.value + leeway) return AuthError::token_expired;
  if (nbf.present && nbf.value > now + leeway) return AuthError::token_not_yet_valid;
  if (iat.present && iat.value > now + leeway) return AuthError::token_not_yet_valid;
  if (opt.max_age_s && now >= iat.value + static_cast<double>(*opt.max_age_s) + leeway) {
    return AuthError::token_expired;
  }

  if (!opt.issuers.empty()) {
    const cJSON* iss = cJSON_GetObjectItemCaseSensitive(claims, "iss");
    if (!cJSON_IsString(iss) || !contains(opt.issuers, iss->valuestring)) {
      return AuthError::invalid_issuer;
    }
  }
  if (!opt.audiences.empty() &&
      !audience_ok(cJSON_GetObjectItemCaseSensitive(claims, "aud"), opt.audiences)) {
    return AuthError::invalid_audience;
  }

  auto id = user_id(claims, opt.user_id_claims);
  if (!id) return AuthError::malformed;
  User user;
  user.id = std::move(*id);
  const cJSON* role = cJSON_GetObjectItemCaseSensitive(claims, opt.role_claim.c_str());
  if (cJSON_IsString(role)) user.role = role->valuestring;
  user.expires_at = exp.present ? to_unix_seconds(exp.value) : 0;
  return user;
}

}  // namespace

Verifier::Verifier(std::shared_ptr<const KeyStore> keys, VerifyOptions options)
    : keys_(std::move(keys)), options_(std::move(options)) {}

std::variant<User, AuthError> Verifier::verify(std::string_view token, int64_t now_unix) const {
  if (token.empty()) return AuthError::missing_token;
  if (token.size() > options_.max_token_size) return AuthError::malformed;

  const std::size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return AuthError::malformed;
  const std::size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return AuthError::malformed;
  }
  if (dot1 == 0 || dot2 == dot1 + 1) return AuthError::malformed;  // empty header or claims
  const std::string_view signing_input = token.substr(0, dot2);
  auto header_text = base64url_decode(token.substr(0, dot1));
  auto payload_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) return AuthError::malformed;

  CjsonPtr header = parse_object(*header_text, options_.max_json_depth);
  if (!header) return AuthError::malformed;
  const cJSON* alg_item = cJSON_GetObjectItemCaseSensitive(header.get(), "alg");
  const cJSON* kid_item = cJSON_GetObjectItemCaseSensitive(header.get(), "kid");
  if (!cJSON_IsString(alg_item) || (kid_item != nullptr && !cJSON_IsString(kid_item)) ||
      cJSON_GetObjectItemCaseSensitive(header.get(), "crit") != nullptr) {
    return AuthError::malformed;
  }
  const std::optional<Algorithm> alg = parse_algorithm(alg_item->valuestring);
  if (!alg) return AuthError::algorithm_not_allowed;

  // Key selection: by kid when the header has one, else every key pinned to the header alg.
  const KeyStore empty;
  const KeyStore& store = keys_ ? *keys_ : empty;
  const Key* verified_by = nullptr;
  if (kid_item != nullptr) {
    const Key* key = store.find(kid_item->valuestring);
    if (key == nullptr) return AuthError::unknown_key;
    if (key->alg() != *alg) return AuthError::algorithm_not_allowed;
    if (key->verify(signing_input, *signature)) verified_by = key;
  } else {
    if (store.empty()) return AuthError::unknown_key;
    bool any = false;
    for (const Key& key : store.keys()) {
      if (key.alg() != *alg) continue;
      any = true;
      if (key.verify(signing_input, *signature)) {
        verified_by = &key;
        break;
      }
    }
    if (!any) return AuthError::algorithm_not_allowed;
  }
  if (verified_by == nullptr) return AuthError::invalid_signature;

  CjsonPtr claims = parse_object(*payload_text, options_.max_json_depth);
  if (!claims) return AuthError::malformed;
  auto result = check_claims(claims.get(), options_, now_unix);
  if (auto* user = std::get_if<User>(&result)) {
    user->claims_json = std::move(*payload_text);
    user->kid = verified_by->kid();
  }
  return result;
}

}  // namespace daheim::auth
