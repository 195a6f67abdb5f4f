#include "plugin/http_replies.hpp"

#include <utility>

namespace daheim::plugin {
namespace {

HttpAnswer error_answer(int status, std::string_view code) {
  return {status, "application/json", "{\"error\":\"" + std::string(code) + "\"}"};
}

}  // namespace

dhl_http_reply* HttpReplies::defer(dhl_ctx* ctx, const HttpCall& call) {
  if (call.deferred || !call.defer) return nullptr;
  call.deferred = true;
  auto owned = std::make_unique<dhl_http_reply>();
  dhl_http_reply* r = owned.get();
  r->ctx = ctx;
  r->respond = call.defer();
  if (timeout_.count() > 0) {
    r->deadline = std::make_unique<loop::Timer>(timers_, [this, r] { expire(r); });
    r->deadline->arm(timeout_);
  }
  open_.emplace(r, std::move(owned));
  return r;
}

int HttpReplies::answer(dhl_ctx* ctx, dhl_http_reply* reply, HttpAnswer answer) {
  auto it = open_.find(reply);
  if (it == open_.end() || it->second->ctx != ctx) return DHL_ERR_INVALID;
  std::unique_ptr<dhl_http_reply> r = std::move(it->second);
  open_.erase(it);
  if (r->released) return DHL_ERR_GONE;
  if (!r->respond) return DHL_ERR_TIMEOUT;
  return r->respond(std::move(answer)) ? DHL_OK : DHL_ERR_GONE;
}

void HttpReplies::expire(dhl_http_reply* reply) {
  if (auto respond = std::exchange(reply->respond, nullptr)) respond(error_answer(504, "timeout"));
}

void HttpReplies::release(const dhl_ctx* ctx) {
  for (auto& [handle, r] : open_) {
    if (r->ctx != ctx || r->released) continue;
    r->released = true;
    r->deadline.reset();
    if (auto respond = std::exchange(r->respond, nullptr))
      respond(error_answer(503, "unavailable"));
  }
}

}  // namespace daheim::plugin
