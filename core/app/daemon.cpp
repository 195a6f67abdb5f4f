#include "app/daemon.hpp"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>

#include "app/admin_setup.hpp"
#include "app/cli.hpp"
#include "app/cluster_setup.hpp"
#include "app/plugin_setup.hpp"
#include "app/session_routing.hpp"
#include "auth_middleware/authenticator.hpp"
#include "daheim_version.h"
#include "dev/demo_page.hpp"
#include "log/log.hpp"
#include "ops/auth_metrics.hpp"
#include "ops/heap_metrics.hpp"
#include "ops/host_limits.hpp"
#include "ops/monitoring.hpp"
#include "ops/plugin_metrics.hpp"
#include "ops/signals.hpp"
#include "ops/socket_activation.hpp"
#include "ops/systemd_notifier.hpp"
#include "socketio/server.hpp"
#include "transport/server.hpp"
#include "transport/tls_certificate.hpp"

namespace daheim::app {
namespace {

transport::HandlerFactory make_factory(const Config& config, const Fixtures* fixtures,
                                       socketio::Server& io) {
  if (fixtures && !config.test_handler.empty())
    if (auto factory = fixtures->engineio_factory(config.test_handler)) return factory;
  return [&io](engineio::Connection& c) { return io.make_client(c); };
}

void declare_namespaces(const Config& config, const Fixtures* fixtures, socketio::Server& io) {
  for (const auto& name : config.namespaces) io.of(name);
  if (fixtures && !config.test_handler.empty()) fixtures->install(config.test_handler, io);
}

// One line per listener, then the line the tests and the packaging wait for
// ("listening on URL"): the first listener's address.
std::string log_listeners(const Config& config, const transport::Server& server) {
  std::string all;
  for (std::size_t i = 0; i < server.listener_count(); ++i) {
    log::notice("listener {} on {} serves {}", i, server.url(i),
                transport::service_names(server.services(i)));
    all += (i ? ", " : "") + server.url(i);
  }
  std::string path = server.services(0) & transport::kServiceSocketIo ? config.endpoint.path : "";
  log::notice("daheim-live {} ({}) listening on {}{}", DAHEIM_VERSION, config.source, server.url(0),
              path);
  return all;
}

// SIGHUP: re-read the file and apply what can change live.
void reload(const Config& running, transport::Server& server,
            auth_middleware::Authenticator* authenticator) {
  if (running.source == "<embedded default>") {
    log::notice("reload: running on the embedded default, nothing to re-read");
    return;
  }
  Config fresh = default_config();
  ConfigError error;
  if (!load_config(running.source, fresh, error)) {
    log::error("reload refused, keeping the running configuration: {}", error.to_string());
    return;
  }
  log::set_level(fresh.log_level);
  std::string keys = "unchanged (auth off)";
  if (authenticator) {
    std::string key_error;
    keys = authenticator->reload(fresh.auth, key_error) ? "reloaded" : "kept (" + key_error + ")";
  }
  std::string certs = "none";
  for (const auto& l : running.server.listeners)
    if (l.tls()) certs = "reloaded";
  if (std::size_t failed = server.reload_certificates())
    certs = std::to_string(failed) + " kept (see the errors above)";
  log::notice(
      "reloaded {}: log level applied, auth keys {}, TLS certificates {}; other keys apply at the "
      "next restart",
      running.source, keys, certs);
}

std::unique_ptr<auth_middleware::Authenticator> make_authenticator(const Config& config,
                                                                   loop::TimerQueue& timers,
                                                                   socketio::Server& io,
                                                                   bool& failed) {
  failed = false;
  if (!config.auth.enabled) return nullptr;
  std::string error;
  auto authenticator = auth_middleware::Authenticator::create(config.auth, timers, error);
  if (!authenticator) {
    failed = true;
    log::error("config error: {}: key auth: {}", config.source, error);
    return nullptr;
  }
  io.for_each_namespace([&](socketio::Namespace& nsp) {
    authenticator->install(nsp);
    // A recovered session goes to the same user only.
    nsp.set_session_owner([](const socketio::Socket& socket) {
      const auth::User* user = auth_middleware::Authenticator::user_of(socket);
      return user ? user->id : std::string();
    });
  });
  return authenticator;
}

transport::HttpReply to_reply(plugin::HttpAnswer a) {
  return {static_cast<unsigned>(a.status), std::move(a.content_type), std::move(a.body), {}};
}

}  // namespace

// $auth.refresh {token}: a fresh token for the same user extends the socket.
void add_auth_refresh(plugin::Host& host, auth_middleware::Authenticator& authenticator) {
  host.add_method("auth.refresh", [&authenticator](socketio::Socket& socket,
                                                   socketio::Event& event) {
    std::unique_ptr<cJSON, decltype(&cJSON_Delete)> args(
        cJSON_ParseWithLength(event.args.data(), event.args.size()), cJSON_Delete);
    const cJSON* token =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(args.get(), 0), "token");
    auto error = cJSON_IsString(token)
                     ? authenticator.refresh(socket, token->valuestring)
                     : std::optional<std::string_view>(auth::code(auth::AuthError::missing_token));
    if (!event.ack_id) return;
    socket.ack(*event.ack_id, error ? fmt::format(R"([{{"error":"{}"}}])", *error) : "[{}]");
  });
}

void prepare_plugins(plugin::Host& host, const Config& config, transport::Server& server,
                     auth_middleware::Authenticator* authenticator) {
  host.set_http_router([&server](std::string_view method, std::string_view path,
                                 std::size_t max_body, plugin::HttpHandler handler) {
    if (server.has_route(path)) return false;
    transport::RouteOptions options;
    options.method = method == "POST" ? engineio::Method::Post : engineio::Method::Get;
    options.max_body = max_body;
    server.add_route(
        transport::kServicePlugins, std::string(path),
        [handler](const transport::RouteRequest& r) {
          std::string method_name = r.http.method == engineio::Method::Post ? "POST" : "GET";
          plugin::HttpCall call{method_name, r.http.path, r.body, r.address, r.header, {}, {}};
          call.defer = [&r]() -> plugin::HttpResponder {
            return [answer = r.defer()](plugin::HttpAnswer a) {
              return answer(to_reply(std::move(a)));
            };
          };
          return to_reply(handler(call));
        },
        options);
    return true;
  });
  if (!authenticator) return;
  host.set_token_verifier([authenticator](std::string_view token, std::string_view audience) {
    auto result = authenticator->verify(token, audience);
    if (auto* error = std::get_if<auth::AuthError>(&result))
      return plugin::TokenCheck{false, {}, auth::code(*error)};
    return plugin::TokenCheck{true, std::move(std::get<auth::User>(result).claims_json), {}};
  });
  host.set_user_lookup([](const socketio::Socket& socket) {
    const auth::User* user = auth_middleware::Authenticator::user_of(socket);
    return user ? plugin::SocketUser{user->id, user->claims_json} : plugin::SocketUser{};
  });
  // Test fixtures answer events themselves unless plugins are configured.
  bool fixture_only = !config.test_handler.empty() && config.plugins.plugins.empty();
  if (authenticator->refresh_allowed() && !fixture_only) add_auth_refresh(host, *authenticator);
}

// A TLS listener starts only with a certificate and key that load.
bool check_certificates(const Config& config) {
  const auto& listeners = config.server.listeners;
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    std::string error;
    if (!listeners[i].tls() ||
        transport::TlsCertificate().load(listeners[i].tls_cert, listeners[i].tls_key, error))
      continue;
    log::error("config error: {}: key listeners[{}].tls: {}", config.source, i, error);
    return false;
  }
  return true;
}

// The address a listener will serve on: its inherited socket's, or its host.
std::string listener_address(const transport::ListenerOptions& l) {
  if (l.inherited_fd < 0) return l.host;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(l.inherited_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_UNIX)
    return "127.0.0.1";  // a local socket
  return buf;
}

// Anyone can sign tokens with the well-known development secret: it serves
// loopback listeners only, unless auth.devSecretOnPublicListeners says so.
bool check_dev_secret(const Config& config) {
  const auto& a = config.auth;
  if (!a.enabled || a.dev_secret.empty() || a.dev_secret_on_public_listeners) return true;
  static const transport::AddressSet loopback = transport::EndpointOptions::loopback();
  const auto& listeners = config.server.listeners;
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    std::string address = listener_address(listeners[i]);
    if (address == "localhost" || loopback.contains(address)) continue;
    log::error(
        "config error: {}: key auth.devSecret: listener {} serves {} with the development secret, "
        "which signs tokens anyone can make; listen on loopback only, configure real keys, or set "
        "auth.devSecretOnPublicListeners: true",
        config.source, i,
        address.empty() || address == "0.0.0.0" || address == "::" ? "every address" : address);
    return false;
  }
  return true;
}

int run_daemon(Config config, const Fixtures* fixtures) {
  log::set_level(config.log_level);
  if (!ops::take_inherited_listeners(config.server.listeners, config.source)) return kExitConfig;
  if (config.cluster.enabled && config.cluster.forwarding)
    SessionRouting::add_listener(config.cluster, config.server);
  if (!check_certificates(config) || !check_dev_secret(config)) return kExitConfig;
  loop::LwsTimerQueue timers;
  loop::Inbox inbox;  // work from other threads (plugins' replies) for the loop
  // Declared before the endpoint: Socket.IO clients live in its sessions.
  socketio::Server io(timers, config.socketio);
  declare_namespaces(config, fixtures, io);
  bool auth_failed = false;
  auto authenticator = make_authenticator(config, timers, io, auth_failed);
  if (auth_failed) return kExitConfig;
  auto admin = make_admin(config, io);  // outlives the sessions, as io does
  transport::EngineIoEndpoint endpoint(config.endpoint, make_factory(config, fixtures, io), timers);
  transport::Server server(config.server, endpoint, timers, inbox);
  std::unique_ptr<ClusterSetup> cluster;
  if (config.cluster.enabled) {
    std::string error;
    cluster = ClusterSetup::create(config.cluster, server, timers, io, error);
    if (!cluster) {
      log::error("config error: {}: key cluster.redis: {}", config.source, error);
      return kExitConfig;
    }
  }
  if (std::string err = server.start(); !err.empty()) {
    log::error("{}", err);
    return 1;
  }
  if (cluster) {
    cluster->start();
    server.hold_drain([&cluster] { return cluster->pending_writes() > 0; });
  }
  std::unique_ptr<SessionRouting> routing;
  if (cluster && config.cluster.forwarding) {
    routing = std::make_unique<SessionRouting>(cluster->redis(), timers, config.cluster);
    routing->start(server, endpoint);
  }
  ops::warn_host_limits({config.server.max_connections, ops::default_listen_backlog()});
  if (config.demo.enabled && config.demo.client_script.empty())
    log::warning("demo: the socket.io client script was not found (run npm ci); the page needs it");
  if (std::string error; !dev::install_demo(server, config.demo, config.endpoint.path, error)) {
    log::error("config error: {}: key demo.clientScript: {}", config.source, error);
    return kExitConfig;
  }
  auto plugins = start_plugins(config.plugins, config.source, config.namespaces, io, inbox,
                               [&](plugin::Host& host) {
                                 prepare_plugins(host, config, server, authenticator.get());
                                 if (cluster) host.set_cluster(cluster->plugin_services());
                               });
  if (!plugins) return kExitConfig;
  plugins->set_http_router({});  // routes are set up during init only (DHL_ERR_REFUSED after)
  ops::Monitoring monitoring(server, endpoint, io);
  if (authenticator) {
    monitoring.add_source(
        [&](ops::MetricsWriter& w) { ops::write_auth_metrics(w, authenticator->stats()); });
    monitoring.add_limit("auth.connectsPerSecondPerUser",
                         [&] { return authenticator->stats().connects_rate_limited; });
    monitoring.add_limit("auth.maxSocketsPerUser",
                         [&] { return authenticator->stats().too_many_sockets; });
  }
  monitoring.add_source(
      [&](ops::MetricsWriter& w) { ops::write_plugin_metrics(w, plugins->stats()); });
  monitoring.add_source(ops::write_heap_metrics);
  if (cluster) {
    monitoring.add_source([&](ops::MetricsWriter& w) { cluster->write_metrics(w); });
    if (routing)
      monitoring.add_source([&](ops::MetricsWriter& w) { routing->write_metrics(w, endpoint); });
    monitoring.add_health([&](std::string& fields) {
      fields += cluster->connected() ? R"(,"cluster":"connected")" : R"(,"cluster":"disconnected")";
      return cluster->connected();
    });
  }
  if (std::string error; admin && !start_admin(*admin, endpoint, server, monitoring, error)) {
    log::error("config error: {}: key admin.uiDir: {}", config.source, error);
    return kExitConfig;
  }
  monitoring.install(server);
  ops::SystemdNotifier notifier(timers);
  ops::Signals signals(
      server, [&config, &server, &authenticator] { reload(config, server, authenticator.get()); });
  server.on_stopping([&] {
    notifier.stopping();
    log::notice("stopping: closing {} sessions", endpoint.session_count());
  });
  // Ready (the "listening on" line, READY=1) once other nodes can reach
  // this one's sessions: its route key is in Redis.
  auto announce = [&] { notifier.ready("listening on " + log_listeners(config, server)); };
  if (routing)
    routing->when_reachable(announce);
  else
    announce();
  server.run();
  plugins->shutdown();
  log::notice("stopped");
  return 0;
}

}  // namespace daheim::app
