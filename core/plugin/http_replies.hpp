// HTTP requests to plugin routes that a plugin answers later (host API 1.4
// http_defer / http_reply): the handles the plugins own, the host's answer
// when a plugin takes longer than pluginHost.callTimeout, and the handles a
// plugin leaves behind when it is unloaded.
#pragma once

#include <chrono>
#include <memory>
#include <unordered_map>

#include "daheim/plugin.h"
#include "loop/timer.hpp"
#include "plugin/http_route.hpp"

struct dhl_http_reply {
  dhl_ctx* ctx = nullptr;
  daheim::plugin::HttpResponder respond;  // empty once the host answered it
  bool released = false;                  // the plugin unloads (503 sent)
  std::unique_ptr<daheim::loop::Timer> deadline;
};

namespace daheim::plugin {

class HttpReplies {
 public:
  // timeout 0: the host never answers for a plugin.
  HttpReplies(loop::TimerQueue& timers, std::chrono::milliseconds timeout)
      : timers_(timers), timeout_(timeout) {}
  HttpReplies(const HttpReplies&) = delete;
  HttpReplies& operator=(const HttpReplies&) = delete;

  // Takes over `call` for plugin `ctx`; null when it was deferred already or
  // its route cannot answer later.
  dhl_http_reply* defer(dhl_ctx* ctx, const HttpCall& call);
  // Answers and frees `reply` (DHL_OK, DHL_ERR_GONE, DHL_ERR_TIMEOUT), or
  // DHL_ERR_INVALID when it is not a handle of `ctx`.
  int answer(dhl_ctx* ctx, dhl_http_reply* reply, HttpAnswer answer);
  // A plugin unloads: its open requests are answered 503; a later answer
  // gets DHL_ERR_GONE.
  void release(const dhl_ctx* ctx);
  std::size_t open() const { return open_.size(); }

 private:
  void expire(dhl_http_reply* reply);

  loop::TimerQueue& timers_;
  std::chrono::milliseconds timeout_;
  std::unordered_map<dhl_http_reply*, std::unique_ptr<dhl_http_reply>> open_;
};

}  // namespace daheim::plugin
