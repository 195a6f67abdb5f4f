#include "app/admin_config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dev/embedded_default.hpp"

namespace daheim::app {
namespace {

// Above this cost one login would hold the event loop for seconds.
constexpr int kMaxCost = 14;

std::string relative_to(const std::string& config_path, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(config_path).parent_path() / p;
  return p.lexically_normal().string();
}

admin::BcryptHash read_hash(ObjectReader& r, const std::string& config_path) {
  std::string file;
  r.string("passwordHashFile", file);
  if (file.empty()) throw Failure{r.key("passwordHashFile"), "expected a file path"};
  file = relative_to(config_path, file);
  std::ifstream in(file);
  if (!in) throw Failure{r.key("passwordHashFile"), "cannot read " + file};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  text.erase(0, text.find_first_not_of(" \t\r\n"));
  auto hash = admin::parse_bcrypt(text);
  if (!hash)
    throw Failure{r.key("passwordHashFile"),
                  file +
                      " does not hold a bcrypt hash ($2a$, $2b$ or $2y$, e.g. from "
                      "htpasswd -nbBC 10 \"\" PASSWORD or bcryptjs)"};
  if (hash->cost > kMaxCost)
    throw Failure{r.key("passwordHashFile"), "cost " + std::to_string(hash->cost) + " in " + file +
                                                 " is above " + std::to_string(kMaxCost) +
                                                 " (each login is checked on the event loop)"};
  return *hash;
}

void read_auth(ObjectReader& r, const std::string& config_path, admin::AdminOptions& out) {
  const cJSON* auth = r.take("auth");
  if (auth == nullptr)
    throw Failure{r.key("auth"),
                  "required: {\"username\": ..., \"passwordHashFile\": ...}, or null for no "
                  "authentication"};
  if (cJSON_IsNull(auth)) return;
  if (!cJSON_IsObject(auth)) throw Failure{r.key("auth"), "expected an object or null"};
  ObjectReader ar(auth, r.key("auth"));
  admin::AdminCredentials c;
  ar.string("username", c.username);
  if (c.username.empty()) throw Failure{ar.key("username"), "expected a non-empty string"};
  c.password = read_hash(ar, config_path);
  ar.finish();
  out.auth = std::move(c);
}

void read_mode(ObjectReader& r, admin::AdminOptions& out) {
  std::string mode = "production";
  r.string("mode", mode);
  if (mode != "production" && mode != "development")
    throw Failure{r.key("mode"), "expected \"production\" or \"development\""};
  out.development = mode == "development";
}

void read_names(ObjectReader& r, const std::vector<std::string>& namespaces,
                admin::AdminOptions& out) {
  r.string("namespaceName", out.namespace_name);
  if (out.namespace_name.empty() || out.namespace_name[0] != '/')
    throw Failure{r.key("namespaceName"), "expected a namespace such as \"/admin\""};
  if (std::find(namespaces.begin(), namespaces.end(), out.namespace_name) != namespaces.end())
    throw Failure{r.key("namespaceName"), "is one of socketio.namespaces"};
  r.string("uiPath", out.ui_path);
  if (out.ui_path.size() < 2 || out.ui_path.front() != '/' || out.ui_path.back() != '/')
    throw Failure{r.key("uiPath"), "expected a path beginning and ending with \"/\""};
}

void read_ui_dir(ObjectReader& r, const std::string& config_path, admin::AdminOptions& out) {
  if (!r.has("uiDir")) {
    out.ui_dir = dev::find_admin_ui();
    return;
  }
  r.string("uiDir", out.ui_dir);
  if (out.ui_dir.empty()) return;  // not served
  out.ui_dir = relative_to(config_path, out.ui_dir);
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(out.ui_dir) / "index.html", ec))
    throw Failure{r.key("uiDir"), "no index.html in " + out.ui_dir};
}

}  // namespace

void read_admin(ObjectReader& root, const std::string& config_path,
                const std::vector<std::string>& namespaces, admin::AdminOptions& out) {
  const cJSON* obj = root.object("admin");
  if (!obj) return;
  ObjectReader r(obj, "admin");
  out.enabled = true;
  r.boolean("enabled", out.enabled);
  read_auth(r, config_path, out);
  read_mode(r, out);
  read_names(r, namespaces, out);
  r.boolean("readonly", out.readonly);
  r.string("serverId", out.server_id);
  r.millis("statsInterval", 100, out.stats_interval);
  r.integer_as("maxSessions", 1, 1 << 20, out.max_sessions);
  r.integer_as("loginsPerMinute", 1, 6000, out.logins_per_minute);
  r.integer_as("maxQueuedEvents", 1, 1 << 24, out.max_queued_events);
  read_ui_dir(r, config_path, out);
  r.finish();
}

}  // namespace daheim::app
