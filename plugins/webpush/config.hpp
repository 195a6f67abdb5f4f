// The webpush plugin's configuration (plugins[].config), checked whole at
// start: a bad value fails the plugin's init (and the server's start) with
// the key named.
#pragma once

#include "delivery.hpp"

#include <daheim/json.hpp>

#include <optional>
#include <string>

namespace webpush {

struct Config {
  std::string vapid_subject;     // vapid.subject: "mailto:..." or "https://..."
  std::string vapid_key_file;    // vapid.privateKeyFile: PEM, or base64url raw scalar
  std::string vapid_public_key;  // vapid.publicKey: with a raw private key
  std::string bearer;            // bearerSecretFile / devBearerSecret: the routes' credential
  std::string path = "/api/v1/webpush";
  std::string stats_path = "/api/v1/webpush/stats";
  std::string nsp = "/";
  int64_t ttl_s = 3600;            // default TTL
  std::string urgency = "normal";  // default Urgency
  std::size_t max_per_user = 10;
  std::size_t max_subscriptions = 100000;
  std::size_t max_users = 1000;  // users in one send request
  std::size_t max_body = 65536;
  bool allow_http = false;
  std::string redis_key = "webpush";  // clustered: the prefix of the Redis keys
  DeliveryConfig delivery;
};

// Throws std::runtime_error("config: <key>: ...") on a bad configuration.
Config read_config(const dhl::Json& cfg);

// The Vapid signer the configuration names (reads the key file).
Vapid load_vapid(const Config& c);

bool valid_urgency(std::string_view u);
constexpr int64_t kMaxTtl = 28 * 24 * 3600;

}  // namespace webpush
