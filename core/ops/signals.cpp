#include "ops/signals.hpp"

#include <atomic>
#include <csignal>

#include "log/log.hpp"
#include "ops/heap_metrics.hpp"

namespace daheim::ops {
namespace {

std::atomic<transport::Server*> g_server{nullptr};
std::atomic<bool> g_reload{false};
std::atomic<bool> g_heap_profile{false};

void on_stop_signal(int) {
  if (transport::Server* server = g_server.load()) server->request_stop();
}

void on_reload_signal(int) {
  g_reload.store(true);
  if (transport::Server* server = g_server.load()) server->wake();
}

void on_heap_profile_signal(int) {
  g_heap_profile.store(true);
  if (transport::Server* server = g_server.load()) server->wake();
}

void heap_profile() {
  log::notice("heap profile (SIGUSR2) follows on stderr");
  if (!print_heap_profile()) log::notice("heap profile: only an ASan build has one");
  log::notice("heap profile: end");
}

}  // namespace

Signals::Signals(transport::Server& server, std::function<void()> reload) {
  g_server.store(&server);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGHUP, on_reload_signal);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGUSR2, on_heap_profile_signal);
  server.add_wake_hook([reload = std::move(reload)] {
    if (g_reload.exchange(false)) reload();
    if (g_heap_profile.exchange(false)) heap_profile();
  });
}

Signals::~Signals() {
  g_server.store(nullptr);
}

}  // namespace daheim::ops
