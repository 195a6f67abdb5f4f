// The `auth` section of the config file.
#pragma once

#include <cstdint>
#include <string>

#include "auth/key_config.hpp"
#include "auth/verify_options.hpp"

namespace daheim::auth_middleware {

struct AuthConfig {
  bool enabled = false;
  // Where tokens are read from: the `access_token` query parameter of the
  // connection and/or the CONNECT auth payload `{"token": ...}`.
  bool from_query = true;
  bool from_auth_payload = true;
  auth::KeyConfig keys;
  // An HS256 secret given inline, for development (and `daheim-live token`).
  std::string dev_secret;
  auth::VerifyOptions verify;
  // Accept `$auth.refresh {token}` to extend a live connection.
  bool allow_refresh = true;
  // Failed attempts allowed per client address within the window.
  int64_t max_failures = 20;
  int64_t failure_window_ms = 60000;
};

}  // namespace daheim::auth_middleware
