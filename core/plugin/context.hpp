// What the opaque handles of the C ABI are on the host side: dhl_ctx (one
// loaded plugin) and dhl_timer. dhl_socket is a generation-checked index
// (socket_handles.hpp) and dhl_call a SyncCall or a deferred id (calls.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "daheim/plugin.h"
#include "loop/timer.hpp"
#include "plugin/call_stats.hpp"
#include "plugin/library.hpp"
#include "plugin/token_check.hpp"

namespace daheim::plugin {
class Host;
}

struct dhl_timer {
  dhl_timer(daheim::loop::TimerQueue& queue, dhl_ctx* owner, dhl_timer_fn callback, void* arg)
      : ctx(owner), fn(callback), user(arg), timer(queue, [this] { fire(); }) {}
  void fire();

  dhl_ctx* ctx;
  dhl_timer_fn fn;
  void* user;
  bool dead = false;  // destroyed by the plugin; freed by the host later
  daheim::loop::Timer timer;
};

struct dhl_ctx {
  daheim::plugin::Host* host = nullptr;
  std::size_t index = 0;  // load order
  uint32_t slot_key = 0;  // this plugin's Socket::slot key
  std::string config;     // JSON text
  std::unique_ptr<daheim::plugin::Library> library;
  void* state = nullptr;
  bool initialized = false;
  std::unordered_map<dhl_timer*, std::unique_ptr<dhl_timer>> timers;
  std::vector<daheim::plugin::CallStats> calls;  // per method, in the descriptor's order
  daheim::plugin::HookStats hooks;
  daheim::plugin::TokenCheck last_token_check;  // what verify_token's strings point into

  const dhl_plugin_desc& desc() const { return library->desc(); }
  std::string_view name() const { return library->name(); }
};
