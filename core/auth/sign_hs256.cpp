#include "auth/sign_hs256.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <cstdlib>

#include "auth/base64url.hpp"
#include "auth/json_parse.hpp"

namespace daheim::auth {

std::string sign_hs256(std::string_view secret, std::string_view claims_json,
                       std::string_view kid) {
  std::string header = R"({"alg":"HS256","typ":"JWT")";
  if (!kid.empty()) {
    CjsonPtr text(cJSON_CreateString(std::string(kid).c_str()));
    char* quoted = text ? cJSON_PrintUnformatted(text.get()) : nullptr;
    if (quoted == nullptr) return {};
    header += R"(,"kid":)";
    header += quoted;
    cJSON_free(quoted);
  }
  header += '}';
  std::string token = base64url_encode(header);
  token += '.';
  token += base64url_encode(claims_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, sizeof mac,
                &mac_len) == nullptr) {
    ERR_clear_error();
    return {};
  }
  token += '.';
  token += base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
  OPENSSL_cleanse(mac, sizeof mac);
  return token;
}

}  // namespace daheim::auth
