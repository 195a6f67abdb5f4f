#include "plugin/calls.hpp"

namespace daheim::plugin {

dhl_call* CallRegistry::add(PendingCall call) {
  std::lock_guard lock(mutex_);
  uint64_t id = next_id_++;
  calls_.emplace(id, std::move(call));
  return deferred_handle(id);
}

std::optional<PendingCall> CallRegistry::take(const dhl_call* handle) {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(deferred_id(handle));
  if (it == calls_.end()) return std::nullopt;
  PendingCall call = std::move(it->second);
  calls_.erase(it);
  return call;
}

int CallRegistry::wants_ack(const dhl_call* handle) const {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(deferred_id(handle));
  if (it == calls_.end()) return -1;
  return it->second.ack_id ? 1 : 0;
}

std::size_t CallRegistry::drop(const dhl_ctx* ctx) {
  std::lock_guard lock(mutex_);
  return std::erase_if(calls_, [&](const auto& c) { return !ctx || c.second.ctx == ctx; });
}

std::vector<PendingCall> CallRegistry::take_older(std::chrono::steady_clock::time_point cutoff) {
  std::lock_guard lock(mutex_);
  std::vector<PendingCall> out;
  auto it = calls_.begin();
  for (; it != calls_.end() && it->second.started <= cutoff; ++it)
    out.push_back(std::move(it->second));
  calls_.erase(calls_.begin(), it);
  return out;
}

std::optional<std::chrono::steady_clock::time_point> CallRegistry::oldest() const {
  std::lock_guard lock(mutex_);
  if (calls_.empty()) return std::nullopt;
  return calls_.begin()->second.started;
}

std::size_t CallRegistry::size() const {
  std::lock_guard lock(mutex_);
  return calls_.size();
}

}  // namespace daheim::plugin
