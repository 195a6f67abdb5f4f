// Where this node takes requests forwarded by other nodes (sessions served by
// any node, issue 16). Every sid this node hands out starts with its tag, six
// base64url characters chosen at random per run; <key>#route#<tag> holds the
// node's internal address ("host:port", a TTL refreshed every interval), so a
// node that gets a request for a sid it does not hold finds the owner from
// the sid alone. A dead node's key expires with its heartbeat. Loop thread
// only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cluster/redis_client.hpp"

namespace daheim::cluster {

struct RouteRegistryOptions {
  std::string key = "socket.io";  // the cluster's key (channel prefix)
  loop::Millis interval{2000};
  loop::Millis ttl{10000};
};

class RouteRegistry {
 public:
  static constexpr std::size_t kTagLength = 6;
  using Done = std::function<void(const std::string& address)>;

  RouteRegistry(RedisClient& redis, loop::TimerQueue& timers, RouteRegistryOptions options);
  ~RouteRegistry();
  RouteRegistry(const RouteRegistry&) = delete;
  RouteRegistry& operator=(const RouteRegistry&) = delete;

  const std::string& tag() const { return tag_; }
  // Advertises `address` now (once Redis is there) and every interval.
  // `advertised` runs once, when Redis confirmed the first write of the key
  // (until then another node forwarding to this one finds no route).
  void start(std::string address, std::function<void()> advertised = nullptr);
  bool advertised() const { return advertised_; }
  // Stops advertising and deletes the key (best effort).
  void stop();
  // Calls `done` with the address of the node whose tag starts `sid`, or
  // with an empty string when no live node has that tag (or Redis is away).
  // May call `done` before returning.
  void resolve(std::string_view sid, Done done);
  // Drops a cached address (its node did not answer).
  void forget(std::string_view sid);
  uint64_t lookups() const { return lookups_; }

 private:
  struct Cached {
    std::string address;  // empty: no such node
    loop::TimePoint until;
  };
  void publish();
  void on_written(const redisReply* reply);
  std::string key_of(std::string_view tag) const { return prefix_ + std::string(tag); }

  RedisClient& redis_;
  loop::TimerQueue& timers_;
  RouteRegistryOptions options_;
  std::string prefix_;
  std::string tag_;
  std::string address_;
  bool running_ = false;
  bool advertised_ = false;
  std::function<void()> on_advertised_;
  loop::Timer timer_;
  std::unordered_map<std::string, Cached> cache_;
  uint64_t lookups_ = 0;
  std::shared_ptr<bool> alive_;
};

}  // namespace daheim::cluster
