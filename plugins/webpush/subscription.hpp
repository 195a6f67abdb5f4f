// A browser's push subscription (PushSubscription.toJSON()):
//   {"endpoint": "https://push.example/...", "expirationTime": null,
//    "keys": {"p256dh": "<base64url point>", "auth": "<base64url 16 bytes>"}}
#pragma once

#include "ece.hpp"

#include <daheim/json.hpp>

#include <cstddef>
#include <optional>
#include <string>

namespace webpush {

constexpr std::size_t kMaxEndpointBytes = 2048;

struct Subscription {
  std::string endpoint;
  Receiver keys;

  dhl::Json to_json() const;
};

// Reads and checks a subscription: an absolute https URL (http too when
// `allow_http`, for development push services) of at most 2048 bytes, a
// P-256 point and a 16-byte auth secret. nullopt with `error` saying which
// field is wrong.
std::optional<Subscription> parse_subscription(const dhl::Json& j, bool allow_http,
                                               std::string& error);

}  // namespace webpush
