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
  // The development secret on a listener that is not loopback
  // (auth.devSecretOnPublicListeners): refused at start-up unless true.
  bool dev_secret_on_public_listeners = false;
  auth::VerifyOptions verify;
  // Accept `$auth.refresh {token}` to extend a live connection.
  bool allow_refresh = true;
  // Failed attempts allowed per client address within the window.
  int64_t max_failures = 20;
  int64_t failure_window_ms = 60000;
  // Sockets one user may have connected at once, all namespaces together
  // (auth.maxSocketsPerUser); beyond, connect_error "Too many sockets".
  int64_t max_sockets_per_user = 50;
  // CONNECTs with a valid token one user may make per second, and at once
  // (auth.connectsPerSecondPerUser, auth.connectBurstPerUser; rate 0: no
  // limit); beyond, connect_error "Too many connects".
  int64_t connects_per_second_per_user = 10;
  int64_t connect_burst_per_user = 100;
};

}  // namespace daheim::auth_middleware
