#include "app/daemon.hpp"

#include <cjson/cJSON.h>
#include <fmt/format.h>

#include <systemd/sd-daemon.h>

#include <csignal>
#include <memory>

#include "app/authenticator.hpp"
#include "app/cli.hpp"
#include "app/conformance_handlers.hpp"
#include "app/demo_page.hpp"
#include "app/e2e_handlers.hpp"
#include "app/echo_handler.hpp"
#include "app/monitoring.hpp"
#include "app/plugin_metrics.hpp"
#include "app/plugin_setup.hpp"
#include "app/systemd_notifier.hpp"
#include "daheim_version.h"
#include "log/log.hpp"
#include "socketio/server.hpp"
#include "transport/server.hpp"

namespace daheim::app {
namespace {

transport::Server* g_server = nullptr;
std::atomic<bool> g_reload{false};

void on_stop_signal(int) {
  if (g_server) g_server->request_stop();
}

void on_reload_signal(int) {
  g_reload.store(true);
  if (g_server) g_server->wake();
}

transport::HandlerFactory make_factory(const Config& config, socketio::Server& io) {
  if (config.test_handler == "engineio-echo")
    return [](engineio::Connection& c) { return std::make_unique<EchoHandler>(c); };
  return [&io](engineio::Connection& c) { return io.make_client(c); };
}

void declare_namespaces(const Config& config, socketio::Server& io) {
  for (const auto& name : config.namespaces) io.of(name);
  if (config.test_handler == "socketio-conformance") install_conformance_handlers(io);
  if (config.test_handler == "socketio-e2e") install_e2e_handlers(io);
}

std::string listen_url(const transport::Server& server, int port) {
  const std::string& h = server.host();
  std::string host = h.find(':') == std::string::npos ? h : "[" + h + "]";
  return "http://" + host + ":" + std::to_string(port);
}

// SIGHUP: re-read the file and apply what can change live.
void reload(const Config& running, Authenticator* authenticator) {
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
  log::notice(
      "reloaded {}: log level applied, auth keys {}; other keys apply at the next "
      "restart",
      running.source, keys);
}

void install_signals(transport::Server& server) {
  g_server = &server;
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGHUP, on_reload_signal);
  std::signal(SIGPIPE, SIG_IGN);
}

std::unique_ptr<Authenticator> make_authenticator(const Config& config,
                                                  engineio::TimerQueue& timers,
                                                  socketio::Server& io, bool& failed) {
  failed = false;
  if (!config.auth.enabled) return nullptr;
  std::string error;
  auto authenticator = Authenticator::create(config.auth, timers, error);
  if (!authenticator) {
    failed = true;
    log::error("config error: {}: key auth: {}", config.source, error);
    return nullptr;
  }
  io.for_each_namespace([&](socketio::Namespace& nsp) { authenticator->install(nsp); });
  return authenticator;
}

}  // namespace

// $auth.refresh {token}: a fresh token for the same user extends the socket.
void add_auth_refresh(plugin::Host& host, Authenticator& authenticator) {
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
                     Authenticator* authenticator) {
  host.set_http_router([&server](std::string_view method, std::string_view path,
                                 std::size_t max_body, plugin::HttpHandler handler) {
    if (server.has_route(path)) return false;
    transport::RouteOptions options;
    options.method = method == "POST" ? engineio::Method::Post : engineio::Method::Get;
    options.max_body = max_body;
    server.add_route(
        std::string(path),
        [handler](const transport::RouteRequest& r) {
          std::string method_name = r.http.method == engineio::Method::Post ? "POST" : "GET";
          plugin::HttpCall call{method_name, r.http.path, r.body, r.address, r.header, {}};
          plugin::HttpAnswer a = handler(call);
          return transport::HttpReply{
              static_cast<unsigned>(a.status), std::move(a.content_type), std::move(a.body), {}};
        },
        options);
    return true;
  });
  if (!authenticator) return;
  host.set_user_lookup([](const socketio::Socket& socket) {
    const auth::User* user = Authenticator::user_of(socket);
    return user ? plugin::SocketUser{user->id, user->claims_json} : plugin::SocketUser{};
  });
  // Test fixtures answer events themselves unless plugins are configured.
  bool fixture_only = !config.test_handler.empty() && config.plugins.plugins.empty();
  if (authenticator->refresh_allowed() && !fixture_only) add_auth_refresh(host, *authenticator);
}

// systemd socket activation: the first passed socket is the listener.
void take_inherited_listener(Config& config) {
  int n = sd_listen_fds(1);
  if (n <= 0) return;
  config.server.inherited_fd = SD_LISTEN_FDS_START;
  log::info("socket activation: listening on the socket passed by systemd ({} passed)", n);
}

int run_daemon(Config config) {
  log::set_level(config.log_level);
  take_inherited_listener(config);
  transport::LwsTimerQueue timers;
  // Declared before the endpoint: Socket.IO clients live in its sessions.
  socketio::Server io(timers, config.socketio);
  declare_namespaces(config, io);
  bool auth_failed = false;
  auto authenticator = make_authenticator(config, timers, io, auth_failed);
  if (auth_failed) return kExitConfig;
  transport::EngineIoEndpoint endpoint(config.endpoint, make_factory(config, io), timers);
  transport::Server server(config.server, endpoint, timers);
  if (std::string err = server.start(); !err.empty()) {
    log::error("{}", err);
    return 1;
  }
  if (config.demo.enabled && config.demo.client_script.empty())
    log::warning("demo: the socket.io client script was not found (run npm ci); the page needs it");
  if (std::string error; !install_demo(server, config.demo, config.endpoint.path, error)) {
    log::error("config error: {}: key demo.clientScript: {}", config.source, error);
    return kExitConfig;
  }
  auto plugins = start_plugins(
      config.plugins, config.source, config.namespaces, io, server.inbox(),
      [&](plugin::Host& host) { prepare_plugins(host, config, server, authenticator.get()); });
  if (!plugins) return kExitConfig;
  Monitoring monitoring(server, endpoint, io);
  if (authenticator)
    monitoring.add_source([&](MetricsWriter& w) { authenticator->write_metrics(w); });
  monitoring.add_source([&](MetricsWriter& w) { write_plugin_metrics(w, plugins->stats()); });
  monitoring.install(server);
  SystemdNotifier notifier(timers);
  install_signals(server);
  server.add_wake_hook([&config, &authenticator] {
    if (g_reload.exchange(false)) reload(config, authenticator.get());
  });
  server.on_stopping([&] {
    notifier.stopping();
    log::notice("stopping: closing {} sessions", endpoint.session_count());
  });
  std::string url = listen_url(server, server.port());
  log::notice("daheim-live {} ({}) listening on {}{}", DAHEIM_VERSION, config.source, url,
              config.endpoint.path);
  notifier.ready("listening on " + url);
  server.run();
  plugins->shutdown();
  g_server = nullptr;
  log::notice("stopped");
  return 0;
}

}  // namespace daheim::app
