#include "app/listeners_config.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "app/config.hpp"

namespace daheim::app {
namespace {

constexpr const char* kServeNames = "\"socketio\", \"demo\", \"metrics\", \"plugins\" or \"admin\"";

std::string readable_file(ObjectReader& r, const char* name, const std::string& config_path) {
  std::string path;
  r.string(name, path);
  if (path.empty()) throw Failure{r.key(name), "expected a file path"};
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(config_path).parent_path() / p;
  path = p.lexically_normal().string();
  if (access(path.c_str(), R_OK) != 0)
    throw Failure{r.key(name), "cannot read " + path + ": " + std::strerror(errno)};
  return path;
}

void read_tls(ObjectReader& r, const std::string& config_path, transport::ListenerOptions& l) {
  const cJSON* obj = r.object("tls");
  if (!obj) return;
  ObjectReader tr(obj, r.key("tls"));
  l.tls_cert = readable_file(tr, "cert", config_path);
  l.tls_key = readable_file(tr, "key", config_path);
  tr.boolean("sessionTickets", l.tls_session_tickets);
  tr.integer_as("sessionCacheSize", 0, 1 << 24, l.tls_session_cache_size);
  tr.integer_as("sessionTimeout", 1, 7 * 24 * 3600, l.tls_session_timeout);
  tr.finish();
}

void read_serve(ObjectReader& r, transport::ListenerOptions& l) {
  if (!r.has("serve")) return;
  auto names = string_list(r, "serve", {});
  if (names.empty())
    throw Failure{r.key("serve"), std::string("expected a list of ") + kServeNames};
  l.services = 0;
  for (const auto& name : names) {
    unsigned bit = transport::service_named(name);
    if (!bit)
      throw Failure{r.key("serve"), "unknown \"" + name + "\" (expected " + kServeNames + ")"};
    l.services |= bit;
  }
}

transport::ListenerOptions read_listener(ObjectReader& r, const std::string& config_path) {
  transport::ListenerOptions l;
  std::string listen;
  r.string("listen", listen);
  if (!parse_listen(listen, l.host, l.port)) throw Failure{r.key("listen"), "expected HOST:PORT"};
  read_tls(r, config_path, l);
  read_serve(r, l);
  return l;
}

// Two listeners on one fixed address would silently share one socket.
void check_distinct(const std::vector<transport::ListenerOptions>& ls) {
  for (std::size_t i = 0; i < ls.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (ls[i].port != 0 && ls[i].port == ls[j].port && ls[i].host == ls[j].host)
        throw Failure{"listeners[" + std::to_string(i) + "].listen",
                      "the same address as listeners[" + std::to_string(j) + "]"};
}

}  // namespace

void read_listeners(ObjectReader& root, const std::string& config_path,
                    std::vector<transport::ListenerOptions>& out) {
  if (!root.has("listeners")) return;
  auto listeners = object_list<transport::ListenerOptions>(
      root, "listeners", [&](ObjectReader& r) { return read_listener(r, config_path); });
  if (listeners.empty()) throw Failure{"listeners", "expected at least one listener"};
  check_distinct(listeners);
  out = std::move(listeners);
}

}  // namespace daheim::app
