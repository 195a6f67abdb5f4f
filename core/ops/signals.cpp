#include "ops/signals.hpp"

#include <atomic>
#include <csignal>

namespace daheim::ops {
namespace {

std::atomic<transport::Server*> g_server{nullptr};
std::atomic<bool> g_reload{false};

void on_stop_signal(int) {
  if (transport::Server* server = g_server.load()) server->request_stop();
}

void on_reload_signal(int) {
  g_reload.store(true);
  if (transport::Server* server = g_server.load()) server->wake();
}

}  // namespace

Signals::Signals(transport::Server& server, std::function<void()> reload) {
  g_server.store(&server);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGHUP, on_reload_signal);
  std::signal(SIGPIPE, SIG_IGN);
  server.add_wake_hook([reload = std::move(reload)] {
    if (g_reload.exchange(false)) reload();
  });
}

Signals::~Signals() {
  g_server.store(nullptr);
}

}  // namespace daheim::ops
