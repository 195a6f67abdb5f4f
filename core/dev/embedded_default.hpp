// The development side of the embedded default (no --config): a well-known
// token secret, and what a build tree offers next to the binary: its
// built-in plugins and the socket.io-client bundle of its npm install.
// meson tells this library (and no other) where the build and source trees
// are, unless built with -Dbuild_tree_defaults=false (packages): then there
// is nothing to look up.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth_middleware/auth_config.hpp"

namespace daheim::dev {

inline constexpr const char* kDevelopmentSecret =
    "daheim-live-development-secret-never-use-in-production";
// The push ingress credential of the embedded default (Authorization: Bearer).
inline constexpr const char* kDevelopmentPushSecret =
    "daheim-live-development-push-secret-never-in-production";

// HS256 with kDevelopmentSecret, audience "realtime", tokens up to an hour old.
auth_middleware::AuthConfig development_auth();

struct BuiltPlugin {
  std::string path;  // relative to BuildTreePlugins::dir
  std::string config_json;
};
struct BuildTreePlugins {
  std::string dir;
  std::vector<BuiltPlugin> plugins;
};
// presence and push (with kDevelopmentPushSecret) from the build tree this
// binary was built in; nullopt when they are not there.
std::optional<BuildTreePlugins> build_tree_plugins();

// The browser bundle of the npm package, from the working directory or the
// source tree this binary was built from; empty when neither has it.
std::string find_client_script();

// The admin UI's built files (npm @socket.io/admin-ui, ui/dist), found the
// same way; empty when neither has them.
std::string find_admin_ui();

}  // namespace daheim::dev
