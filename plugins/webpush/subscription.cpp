#include "subscription.hpp"

#include "vapid.hpp"

namespace webpush {

dhl::Json Subscription::to_json() const {
  return dhl::Json::object({{"endpoint", endpoint},
                            {"keys", dhl::Json::object({{"p256dh", base64url_encode(keys.p256dh)},
                                                        {"auth", base64url_encode(keys.auth)}})}});
}

std::optional<Subscription> parse_subscription(const dhl::Json& j, bool allow_http,
                                               std::string& error) {
  if (!j.is_object()) {
    error = "a subscription is an object {endpoint, keys: {p256dh, auth}}";
    return std::nullopt;
  }
  std::string_view endpoint = j["endpoint"].as_string();
  bool https = endpoint.starts_with("https://");
  if (endpoint.empty() || endpoint.size() > kMaxEndpointBytes ||
      !(https || (allow_http && endpoint.starts_with("http://"))) || origin_of(endpoint).empty()) {
    error =
        "endpoint must be an https URL of at most " + std::to_string(kMaxEndpointBytes) + " bytes";
    return std::nullopt;
  }
  const dhl::Json& keys = j["keys"];
  std::optional<Bytes> p256dh = base64url_decode(keys["p256dh"].as_string());
  if (!p256dh || !EcKey::from_raw({}, *p256dh)) {
    error = "keys.p256dh must be a P-256 public key (base64url, 65 bytes)";
    return std::nullopt;
  }
  std::optional<Bytes> auth = base64url_decode(keys["auth"].as_string());
  if (!auth || auth->size() != 16) {
    error = "keys.auth must be 16 bytes (base64url)";
    return std::nullopt;
  }
  return Subscription{std::string(endpoint), Receiver{std::move(*p256dh), std::move(*auth)}};
}

}  // namespace webpush
