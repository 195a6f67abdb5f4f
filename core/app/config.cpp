#include "app/config.hpp"

#include <cjson/cJSON.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>
#include <thread>

#include "app/admin_config.hpp"
#include "app/config_reader.hpp"
#include "app/listeners_config.hpp"
#include "dev/embedded_default.hpp"

namespace daheim::app {
namespace {

void read_transports(ObjectReader& r, engineio::Options& eio) {
  const cJSON* v = r.take("transports");
  if (!v) return;
  std::string k = r.key("transports");
  if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
    throw Failure{k, "expected a non-empty list of \"polling\" and \"websocket\""};
  eio.allow_polling = eio.allow_websocket = false;
  const cJSON* t;
  cJSON_ArrayForEach(t, v) {
    std::string name = cJSON_IsString(t) ? t->valuestring : "";
    if (name == "polling")
      eio.allow_polling = true;
    else if (name == "websocket")
      eio.allow_websocket = true;
    else
      throw Failure{k, "unknown transport (expected \"polling\" or \"websocket\")"};
  }
}

void read_cors(ObjectReader& parent, transport::CorsOptions& cors) {
  const cJSON* obj = parent.object("cors");
  if (!obj) return;
  ObjectReader r(obj, parent.key("cors"));
  cors.enabled = true;
  const cJSON* origin = r.take("origin");
  if (cJSON_IsString(origin) && std::string(origin->valuestring) == "*") {
    cors.any_origin = true;
  } else if (cJSON_IsString(origin)) {
    cors.origins = {origin->valuestring};
  } else if (cJSON_IsArray(origin)) {
    const cJSON* o;
    cJSON_ArrayForEach(o, origin) {
      if (!cJSON_IsString(o)) throw Failure{r.key("origin"), "expected a list of origins"};
      cors.origins.emplace_back(o->valuestring);
    }
  } else if (origin) {
    throw Failure{r.key("origin"), "expected \"*\", an origin or a list of origins"};
  } else {
    cors.any_origin = true;
  }
  r.boolean("credentials", cors.credentials);
  r.finish();
}

transport::AddressSet address_set(ObjectReader& r, const char* name,
                                  transport::AddressSet fallback) {
  std::vector<std::string> texts = string_list(r, name, {"<absent>"});
  if (texts.size() == 1 && texts[0] == "<absent>") return fallback;
  std::string bad;
  auto set = transport::AddressSet::parse(texts, &bad);
  if (!set) throw Failure{r.key(name), "\"" + bad + "\" is not an address or address/prefix"};
  return *set;
}

// Per client address: connections, Engine.IO sessions, handshakes per second.
void read_address_limits(ObjectReader& r, transport::EndpointOptions& e) {
  auto& a = e.per_address;
  r.integer_as("maxConnectionsPerAddress", 0, 10000000, a.max_connections);
  r.integer_as("maxSessionsPerAddress", 0, 10000000, a.max_sessions);
  r.integer_as("handshakesPerSecondPerAddress", 0, 1 << 20, a.handshakes_per_second);
  r.integer_as("handshakeBurstPerAddress", 1, 1 << 20, a.handshake_burst);
  e.trusted_proxies = address_set(r, "trustedProxies", e.trusted_proxies);
  e.limits_exempt = address_set(r, "addressLimitsExempt", e.limits_exempt);
}

// The server-wide handshake budget (a reconnect storm after a restart).
void read_handshake_budget(ObjectReader& r, transport::HandshakeBudgetOptions& h) {
  r.integer_as("handshakesPerSecond", 0, 1 << 20, h.per_second);
  r.integer_as("handshakeBurst", 1, 1 << 20, h.burst);
  r.integer_as("maxHandshakesWaiting", 0, 10000000, h.max_waiting);
  r.millis("maxHandshakeWait", 0, h.max_wait);
}

bool is_header_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
  });
}

// engineio.handshakeHeaders: "all", "all-but-websocket" or a list of
// lower-case header names.
void read_handshake_headers(ObjectReader& r, engineio::HeaderFilter& out) {
  using Mode = engineio::HeaderFilter::Mode;
  const cJSON* v = r.take("handshakeHeaders");
  if (!v) return;
  std::string k = r.key("handshakeHeaders");
  if (cJSON_IsString(v) && std::string_view(v->valuestring) == "all") {
    out = {Mode::All, {}};
  } else if (cJSON_IsString(v) && std::string_view(v->valuestring) == "all-but-websocket") {
    out = {Mode::AllButWebSocket, {}};
  } else if (cJSON_IsArray(v)) {
    engineio::HeaderFilter listed{Mode::Listed, {}};
    const cJSON* n;
    cJSON_ArrayForEach(n, v) {
      if (!cJSON_IsString(n) || !is_header_name(n->valuestring))
        throw Failure{k, "expected header names in lower case (a-z, 0-9, -)"};
      listed.names.emplace_back(n->valuestring);
    }
    out = std::move(listed);
  } else {
    throw Failure{k, R"(expected "all", "all-but-websocket" or a list of header names)"};
  }
}

// engineio.pollingHttp: who serves long-polling on plain listeners ("lws" or
// "own"), and the timeouts of our own HTTP/1.1 handling.
void read_polling_http(ObjectReader& r, transport::ServerOptions& out) {
  std::string mode = out.own_polling_http ? "own" : "lws";
  r.string("pollingHttp", mode);
  if (mode != "lws" && mode != "own")
    throw Failure{r.key("pollingHttp"), R"(expected "lws" or "own")"};
  out.own_polling_http = mode == "own";
  r.millis("httpIdleTimeout", 1, out.http1.idle_timeout);
  r.millis("httpRequestTimeout", 1, out.http1.request_timeout);
}

void read_engineio(ObjectReader& root, Config& c) {
  const cJSON* obj = root.object("engineio");
  if (!obj) return;
  ObjectReader r(obj, "engineio");
  auto& eio = c.endpoint.eio;
  r.string("path", c.endpoint.path);
  if (c.endpoint.path.empty() || c.endpoint.path.front() != '/')
    throw Failure{"engineio.path", "expected a path starting with /"};
  if (c.endpoint.path.back() != '/') c.endpoint.path += '/';
  read_transports(r, eio);
  r.millis("pingInterval", 1, eio.ping_interval);
  r.millis("pingTimeout", 1, eio.ping_timeout);
  r.millis("upgradeTimeout", 1, eio.upgrade_timeout);
  r.integer_as("maxPayload", 1, 1 << 30, eio.max_payload);
  r.boolean("allowEIO3", eio.allow_eio3);
  read_handshake_headers(r, c.endpoint.handshake_headers);
  // A session counts its queued bytes in 32 bits: more is refused.
  r.integer_as("maxBufferedBytes", 1024, static_cast<int64_t>(engineio::kMaxBufferedBytes),
               eio.max_buffered_bytes);
  r.integer_as("maxBufferedBytesTotal", 0, int64_t(1) << 44, c.endpoint.max_buffered_total);
  r.integer_as("maxHttpHeaderSize", 4096, 65535, c.server.max_header);
  c.endpoint.max_header = c.server.max_header;
  read_polling_http(r, c.server);
  c.server.http1.max_header = c.server.max_header;
  c.server.http1.max_body = eio.max_payload;
  r.integer_as("maxConnections", 1, 10000000, c.server.max_connections);
  r.integer_as("maxAcceptsPerTurn", 0, 1 << 20, c.server.max_accepts_per_turn);
  r.millis("refusalLingerTime", 1, c.server.refusal.linger);
  r.integer_as("refusalReadBytes", 0, 1 << 30, c.server.refusal.max_read_bytes);
  r.integer_as("refusalMaxSockets", 0, 1 << 20, c.server.refusal.max_sockets);
  r.integer_as("wsReceiveBuffer", 128, 65536, c.server.rx_buffer_size);
  read_cors(r, c.endpoint.cors);
  read_address_limits(r, c.endpoint);
  read_handshake_budget(r, c.endpoint.handshakes);
  r.finish();
}

void read_namespaces(ObjectReader& r, std::vector<std::string>& out) {
  const cJSON* v = r.take("namespaces");
  if (!v) return;
  std::string k = r.key("namespaces");
  if (!cJSON_IsArray(v)) throw Failure{k, "expected a list of namespace names"};
  out.clear();
  const cJSON* n;
  cJSON_ArrayForEach(n, v) {
    if (!cJSON_IsString(n) || n->valuestring[0] != '/' || std::strchr(n->valuestring, ',') ||
        std::strchr(n->valuestring, '?'))
      throw Failure{k, "expected names starting with / and without , or ?"};
    out.emplace_back(n->valuestring);
  }
}

// socketio.connectionStateRecovery: present (an object) turns recovery on,
// as socket.io's `connectionStateRecovery: {}` does.
void read_recovery(ObjectReader& parent, socketio::RecoveryOptions& out) {
  const cJSON* obj = parent.object("connectionStateRecovery");
  if (!obj) return;
  ObjectReader r(obj, "socketio.connectionStateRecovery");
  out.enabled = true;
  r.boolean("enabled", out.enabled);
  r.millis("maxDisconnectionDuration", 1, out.max_disconnection_duration);
  r.integer_as("maxSessions", 0, int64_t{1} << 32, out.max_sessions);
  r.integer_as("maxLogPackets", 1, int64_t{1} << 32, out.max_log_packets);
  r.integer_as("maxLogBytes", 1024, int64_t{1} << 40, out.max_log_bytes);
  r.finish();
}

void read_socketio(ObjectReader& root, Config& c) {
  const cJSON* obj = root.object("socketio");
  if (!obj) return;
  ObjectReader r(obj, "socketio");
  read_namespaces(r, c.namespaces);
  r.millis("connectTimeout", 1, c.socketio.connect_timeout);
  r.integer_as("maxAttachments", 0, 1000, c.socketio.max_attachments);
  r.integer_as("maxPendingAcks", 1, 1 << 20, c.socketio.max_pending_acks);
  r.integer_as("maxPendingBroadcastAcks", 1, 1 << 20, c.socketio.max_pending_broadcast_acks);
  read_recovery(r, c.socketio.recovery);
  r.integer_as("eventsPerSecond", 0, 1 << 20, c.socketio.event_rate.rate);
  r.integer_as("eventBurst", 1, 1 << 20, c.socketio.event_rate.burst);
  r.integer_as("maxRefusedEvents", 0, 1 << 20, c.socketio.event_rate.max_debt);
  r.integer_as("maxRoomsPerSocket", 1, 1 << 20, c.socketio.max_rooms_per_socket);
  r.integer_as("maxNamespacesPerClient", 1, 1024, c.socketio.max_namespaces_per_client);
  r.integer_as("maxAuthPayload", 2, 1 << 24, c.socketio.max_auth_payload);
  r.finish();
}

void read_auth_keys(ObjectReader& r, auth_middleware::AuthConfig& a) {
  a.keys.hmac_secret_files =
      object_list<auth::KeyConfig::Secret>(r, "hmacSecretFiles", [](ObjectReader& er) {
        auth::KeyConfig::Secret s;
        er.string("path", s.path);
        er.string("alg", s.alg);
        er.string("kid", s.kid);
        if (s.path.empty()) throw Failure{er.key("path"), "expected a file path"};
        return s;
      });
  a.keys.pem_files = object_list<auth::KeyConfig::Pem>(r, "publicKeys", [](ObjectReader& er) {
    auth::KeyConfig::Pem p;
    er.string("path", p.path);
    er.string("alg", p.alg);
    er.string("kid", p.kid);
    if (p.path.empty()) throw Failure{er.key("path"), "expected a file path"};
    if (p.alg.empty()) throw Failure{er.key("alg"), "expected the algorithm the key is for"};
    return p;
  });
  a.keys.jwks_files = string_list(r, "jwksFiles", {});
}

void read_auth_sources(ObjectReader& r, auth_middleware::AuthConfig& a) {
  auto sources = string_list(r, "tokenSources", {"query", "auth"});
  a.from_query = a.from_auth_payload = false;
  for (const auto& s : sources) {
    if (s == "query")
      a.from_query = true;
    else if (s == "auth")
      a.from_auth_payload = true;
    else
      throw Failure{r.key("tokenSources"), "expected \"query\" and/or \"auth\""};
  }
  if (!a.from_query && !a.from_auth_payload)
    throw Failure{r.key("tokenSources"), "expected \"query\" and/or \"auth\""};
}

void read_auth(ObjectReader& root, Config& c) {
  const cJSON* obj = root.object("auth");
  if (!obj) return;
  ObjectReader r(obj, "auth");
  auth_middleware::AuthConfig& a = c.auth;
  a.enabled = true;
  r.boolean("enabled", a.enabled);
  read_auth_sources(r, a);
  read_auth_keys(r, a);
  r.string("devSecret", a.dev_secret);
  r.boolean("devSecretOnPublicListeners", a.dev_secret_on_public_listeners);
  a.verify.issuers = string_list(r, "issuers", {});
  a.verify.audiences = string_list(r, "audiences", {});
  r.integer("leeway", 0, 86400, a.verify.leeway_s);
  int64_t max_age = 0;
  r.integer("maxAge", 0, int64_t(1) << 40, max_age);
  if (max_age > 0) a.verify.max_age_s = max_age;
  a.verify.user_id_claims = string_list(r, "userIdClaims", {"sub", "id"});
  r.string("roleClaim", a.verify.role_claim);
  r.integer_as("maxTokenSize", 64, 65536, a.verify.max_token_size);
  r.boolean("allowRefresh", a.allow_refresh);
  r.integer("maxFailures", 1, 1 << 30, a.max_failures);
  r.integer("maxSocketsPerUser", 1, 1 << 30, a.max_sockets_per_user);
  r.integer("connectsPerSecondPerUser", 0, 1 << 20, a.connects_per_second_per_user);
  r.integer("connectBurstPerUser", 1, 1 << 20, a.connect_burst_per_user);
  r.integer("failureWindow", 1, int64_t(1) << 40, a.failure_window_ms);
  r.finish();
  if (a.enabled && a.keys.hmac_secret_files.empty() && a.keys.pem_files.empty() &&
      a.keys.jwks_files.empty() && a.dev_secret.empty())
    throw Failure{"auth", "no keys: give hmacSecretFiles, publicKeys, jwksFiles or devSecret"};
}

void read_event_loop(ObjectReader& r, transport::ServerOptions::EventLoop& out) {
  using Loop = transport::ServerOptions::EventLoop;
  std::string name;
  r.string("eventLoop", name);
  if (name == "poll")
    out = Loop::Poll;
  else if (name == "libev")
    out = Loop::Libev;
  else if (name == "libuv")
    out = Loop::Libuv;
  else if (!name.empty())
    throw Failure{"eventLoop", "expected \"poll\", \"libev\" or \"libuv\""};
}

void read_demo(ObjectReader& root, Config& c) {
  const cJSON* obj = root.object("demo");
  if (!obj) return;
  ObjectReader r(obj, "demo");
  r.boolean("enabled", c.demo.enabled);
  r.string("clientScript", c.demo.client_script);
  r.finish();
}

// "pluginHost": limits of the plugin host (plugin::HostOptions).
void read_plugin_host(ObjectReader& root, Config& c) {
  const cJSON* obj = root.object("pluginHost");
  if (!obj) return;
  ObjectReader r(obj, "pluginHost");
  r.integer_as("maxPendingCallsPerSocket", 1, 1 << 20, c.plugins.host.max_pending_calls);
  r.integer_as("maxPendingCalls", 1, 1 << 24, c.plugins.host.max_pending_calls_total);
  r.millis("callTimeout", 0, c.plugins.host.call_timeout);
  r.finish();
}

// `workers`: a count, or "auto" for one per core.
void read_workers(ObjectReader& r, Config& c) {
  if (!r.has("workers")) return;
  if (const cJSON* v = r.take("workers"); cJSON_IsString(v)) {
    if (std::string_view(v->valuestring) != "auto")
      throw Failure{"workers", "expected a number of processes or \"auto\""};
    c.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  } else {
    r.integer_as("workers", 1, 1024, c.workers);
  }
  if (c.workers > 1 && !c.cluster.enabled)
    throw Failure{"workers",
                  "more than one worker needs a cluster section: the workers are nodes of one "
                  "cluster over Redis"};
  if (c.workers > 1 && !c.cluster.forwarding)
    throw Failure{"cluster.forwarding",
                  "workers share one port: requests reach any worker and must be forwarded"};
}

void read_root(const cJSON* root, Config& c) {
  if (!cJSON_IsObject(root)) throw Failure{"", "expected a JSON object"};
  ObjectReader r(root, "");
  std::string listen;
  r.string("listen", listen);
  transport::ListenerOptions& first = c.server.listeners.front();
  if (!listen.empty() && !parse_listen(listen, first.host, first.port))
    throw Failure{"listen", "expected HOST:PORT"};
  if (r.has("listen") && r.has("listeners"))
    throw Failure{"listeners", "give either listen or listeners, not both"};
  read_listeners(r, c.source, c.server.listeners);
  r.millis("drainTime", 0, c.server.drain_time);
  r.millis("drainPollingGrace", 0, c.server.drain_polling_grace);
  read_event_loop(r, c.server.event_loop);
  if (const cJSON* log = r.object("log")) {
    ObjectReader lr(log, "log");
    std::string level;
    lr.string("level", level);
    if (!level.empty() && !log::parse_level(level, c.log_level))
      throw Failure{"log.level", "expected error, warning, notice, info or debug"};
    lr.finish();
  }
  read_engineio(r, c);
  read_socketio(r, c);
  read_auth(r, c);
  read_demo(r, c);
  std::string plugin_key, plugin_message;
  if (!read_plugins_config(r.take("pluginDir"), r.take("plugins"), c.plugins, plugin_key,
                           plugin_message))
    throw Failure{plugin_key, plugin_message};
  read_plugin_host(r, c);
  read_cluster(r, c.cluster);
  read_workers(r, c);
  read_admin(r, c.source, c.namespaces, c.admin);
  r.string("testHandler", c.test_handler);
  if (!c.test_handler.empty() && c.test_handler != "engineio-echo" &&
      c.test_handler != "socketio-conformance" && c.test_handler != "socketio-e2e")
    throw Failure{"testHandler",
                  "expected \"engineio-echo\", \"socketio-conformance\" or \"socketio-e2e\""};
  r.finish();
}

}  // namespace

std::string ConfigError::to_string() const {
  std::string s = "config error: " + file;
  if (!key.empty()) s += ": key " + key;
  return s + ": " + message;
}

Config default_config() {
  return Config{};
}

Config embedded_config() {
  Config c;
  c.auth = dev::development_auth();
  c.demo.enabled = true;
  c.demo.client_script = dev::find_client_script();
  if (auto built = dev::build_tree_plugins()) {
    c.plugins.dir = built->dir;
    for (auto& p : built->plugins) c.plugins.plugins.push_back({p.path, p.config_json});
  }
  return c;
}

bool parse_listen(const std::string& text, std::string& host, int& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 >= text.size()) return false;
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = 0;
  for (char ch : text.substr(colon + 1)) {
    if (ch < '0' || ch > '9') return false;
    p = p * 10 + (ch - '0');
    if (p > 65535) return false;
  }
  if (h.empty()) return false;
  host = h;
  port = p;
  return true;
}

bool load_config(const std::string& path, Config& config, ConfigError& error) {
  error.file = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error.message = "cannot read the file";
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  cJSON_Minify(text.data());
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(
      cJSON_ParseWithLength(text.c_str(), std::strlen(text.c_str())), cJSON_Delete);
  if (!root) {
    error.message = "not valid JSON";
    return false;
  }
  try {
    config.source = path;
    read_root(root.get(), config);
  } catch (const Failure& f) {
    error.key = f.key;
    error.message = f.message;
    return false;
  }
  return true;
}

}  // namespace daheim::app
