#include "dev/embedded_default.hpp"

#include <filesystem>

namespace daheim::dev {

auth_middleware::AuthConfig development_auth() {
  auth_middleware::AuthConfig c;
  c.enabled = true;
  c.dev_secret = kDevelopmentSecret;
  c.verify.audiences = {"realtime"};
  return c;
}

std::optional<BuildTreePlugins> build_tree_plugins() {
  const std::filesystem::path dir = DHL_BUILD_TREE_PLUGIN_DIR;
  std::error_code ec;
  if (dir.empty() || !std::filesystem::exists(dir / "presence" / "presence.so", ec) ||
      !std::filesystem::exists(dir / "push" / "push.so", ec))
    return std::nullopt;
  BuildTreePlugins built{dir.lexically_normal().string(), {}};
  built.plugins.push_back({"presence/presence.so", "{}"});
  built.plugins.push_back(
      {"push/push.so", std::string(R"({"devBearerSecret":")") + kDevelopmentPushSecret + "\"}"});
  return built;
}

namespace {

std::string find_in_node_modules(const std::filesystem::path& rel) {
  std::error_code ec;
  if (std::filesystem::exists(rel, ec)) return rel.string();
  const std::filesystem::path source = DHL_SOURCE_TREE;
  if (!source.empty() && std::filesystem::exists(source / rel, ec))
    return (source / rel).lexically_normal().string();
  return {};
}

}  // namespace

std::string find_client_script() {
  return find_in_node_modules("node_modules/socket.io-client/dist/socket.io.min.js");
}

std::string find_admin_ui() {
  std::string index = find_in_node_modules("node_modules/@socket.io/admin-ui/ui/dist/index.html");
  return index.empty() ? index : std::filesystem::path(index).parent_path().string();
}

}  // namespace daheim::dev
