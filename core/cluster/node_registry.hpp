// Which nodes are alive: each node refreshes its heartbeat key
// (<key>#node#<id>, a TTL) and its entry in the sorted set <key>#nodes every
// interval with one Lua script, which also drops the entries whose heartbeat
// expired and answers the live ids. Comparing that list with the last one
// gives this node's joined / left events: a node that dies (SIGKILL, power
// loss, network split) leaves at most ttl + interval after its last beat.
// While Redis is unreachable nothing changes. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "cluster/redis_client.hpp"

namespace daheim::cluster {

struct NodeRegistryOptions {
  std::string key = "socket.io";  // the cluster's key (channel prefix)
  std::string id;                 // this node's id (unique per run)
  loop::Millis interval{2000};
  loop::Millis ttl{10000};
};

class NodeRegistry {
 public:
  using Handler = std::function<void(bool joined, const std::string& id)>;

  NodeRegistry(RedisClient& redis, loop::TimerQueue& timers, NodeRegistryOptions options);
  ~NodeRegistry();
  NodeRegistry(const NodeRegistry&) = delete;
  NodeRegistry& operator=(const NodeRegistry&) = delete;

  void set_handler(Handler h) { handler_ = std::move(h); }
  // Beats now and every interval.
  void start();
  // Stops beating and removes this node's heartbeat (best effort), so that
  // the others see it leave at their next beat.
  void stop();
  const std::string& id() const { return options_.id; }
  // The other live nodes, as of the last beat.
  const std::set<std::string>& others() const { return others_; }
  uint64_t beats() const { return beats_; }

 private:
  void beat();
  void on_reply(const redisReply* reply);

  RedisClient& redis_;
  NodeRegistryOptions options_;
  std::string nodes_key_;
  std::string heartbeat_prefix_;
  std::string sha_;
  Handler handler_;
  std::set<std::string> others_;
  bool in_flight_ = false;
  bool running_ = false;
  uint64_t beats_ = 0;
  loop::Timer timer_;
  std::shared_ptr<bool> alive_;
};

}  // namespace daheim::cluster
