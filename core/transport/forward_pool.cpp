#include "transport/forward_pool.hpp"

#include <algorithm>

namespace daheim::transport {

ForwardPool::ForwardPool(loop::Reactor& reactor, loop::TimerQueue& timers, Limits limits)
    : reactor_(reactor),
      timers_(timers),
      limits_(limits),
      sweep_(timers, [this] { dropped_.clear(); }) {}

ForwardPool::~ForwardPool() {
  sweep_.disarm();
}

std::unique_ptr<UpstreamSocket> ForwardPool::take(const std::string& address) {
  auto it = idle_.find(address);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  auto now = timers_.now();
  while (!list.empty()) {
    std::unique_ptr<Idle> idle = std::move(list.back());
    list.pop_back();
    if (now - idle->since > limits_.max_idle) continue;  // the older ones too
    std::unique_ptr<UpstreamSocket> socket = std::move(idle->socket);
    socket->set_owner(nullptr);
    ++reused_;
    return socket;
  }
  idle_.erase(it);
  return nullptr;
}

void ForwardPool::give(const std::string& address, std::unique_ptr<UpstreamSocket> socket) {
  auto& list = idle_[address];
  auto now = timers_.now();
  while (!list.empty() && now - list.front()->since > limits_.max_idle) list.pop_front();
  if (list.size() >= limits_.max_idle_per_node) return;  // closed as it goes
  auto idle = std::make_unique<Idle>();
  idle->pool = this;
  idle->address = address;
  idle->since = now;
  idle->socket = std::move(socket);
  idle->socket->set_owner(idle.get());
  list.push_back(std::move(idle));
}

void ForwardPool::drop(Idle* idle) {
  auto it = idle_.find(idle->address);
  if (it == idle_.end()) return;
  auto& list = it->second;
  auto pos = std::find_if(list.begin(), list.end(), [&](const auto& p) { return p.get() == idle; });
  if (pos == list.end()) return;
  (*pos)->socket->set_owner(nullptr);
  dropped_.push_back(std::move(*pos));
  list.erase(pos);
  if (!sweep_.armed()) sweep_.arm(loop::Millis(0));
}

std::size_t ForwardPool::idle() const {
  std::size_t n = 0;
  for (const auto& [address, list] : idle_) n += list.size();
  return n;
}

}  // namespace daheim::transport
