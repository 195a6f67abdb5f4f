// Idle keep-alive connections to other nodes' internal listeners, kept for
// the next forwarded polling request to the same node (a connection per
// request costs both nodes an accept, a close and a watched descriptor).
// An idle connection the owner closes, or that sat longer than the idle
// limit, is dropped. Loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "transport/upstream_socket.hpp"

namespace daheim::transport {

class ForwardPool {
 public:
  struct Limits {
    std::size_t max_idle_per_node = 64;
    // Below the owners' keep-alive timeout (lws: 60 s), so that a connection
    // is not reused just as its owner closes it.
    loop::Millis max_idle{20000};
  };
  ForwardPool(loop::Reactor& reactor, loop::TimerQueue& timers, Limits limits);
  ~ForwardPool();
  ForwardPool(const ForwardPool&) = delete;
  ForwardPool& operator=(const ForwardPool&) = delete;

  loop::Reactor& reactor() { return reactor_; }
  loop::TimerQueue& timers() { return timers_; }
  // An idle connection to `address` (its owner unset), or null.
  std::unique_ptr<UpstreamSocket> take(const std::string& address);
  // Keeps a connection whose last answer completed.
  void give(const std::string& address, std::unique_ptr<UpstreamSocket> socket);
  std::size_t idle() const;
  uint64_t reused() const { return reused_; }

 private:
  struct Idle final : UpstreamSocket::Owner {
    ForwardPool* pool = nullptr;
    std::string address;
    std::unique_ptr<UpstreamSocket> socket;
    loop::TimePoint since{};
    // Nothing is expected on an idle connection: either ends it.
    void on_upstream_data(std::string_view) override { pool->drop(this); }
    void on_upstream_closed(const char*, bool) override { pool->drop(this); }
  };
  // Deferred: the connection may be inside one of its own callbacks.
  void drop(Idle* idle);

  loop::Reactor& reactor_;
  loop::TimerQueue& timers_;
  Limits limits_;
  std::unordered_map<std::string, std::deque<std::unique_ptr<Idle>>> idle_;
  std::vector<std::unique_ptr<Idle>> dropped_;
  loop::Timer sweep_;
  uint64_t reused_ = 0;
};

}  // namespace daheim::transport
