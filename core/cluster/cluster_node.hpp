// This process as one node of a cluster: hands out the cluster adapters for
// the namespaces, routes what arrives on Redis to the adapter whose channel
// it is, and keeps the node's cluster counters. Loop thread only.
#pragma once

#include <cstddef>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cluster/cluster_options.hpp"
#include "cluster/cluster_stats.hpp"
#include "cluster/redis_client.hpp"
#include "socketio/server.hpp"

namespace daheim::cluster {

class StreamLog;

// An adapter listening on cluster channels.
class ChannelListener {
 public:
  virtual ~ChannelListener() = default;
  // A message on `channel` (for patterns, the channel it matched).
  virtual void on_cluster_message(RedisClient::Kind kind, std::string_view channel,
                                  std::string_view payload) = 0;
};

class ClusterNode {
 public:
  ClusterNode(RedisClient& redis, loop::TimerQueue& timers, ClusterOptions options);
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // For Server::set_adapter_factory.
  socketio::Server::AdapterFactory adapter_factory();
  // The streams adapter's log (AdapterKind::Streams); set before adapters are made.
  void set_stream_log(StreamLog* log) { stream_log_ = log; }

  RedisClient& redis() { return redis_; }
  loop::TimerQueue& timers() { return timers_; }
  const ClusterOptions& options() const { return options_; }
  ClusterStats& stats() { return stats_; }
  const ClusterStats& stats() const { return stats_; }
  bool connected() const { return redis_.connected(); }

  // A random id of `n` characters from [A-Za-z0-9] (uid2's alphabet).
  std::string random_id(std::size_t n);
  // `n` random lower-case hex digits (ClusterAdapter's uids and request ids).
  std::string random_hex(std::size_t n);

  // Adapters register the channels (and the pattern) they listen on.
  void route(RedisClient::Kind kind, const std::string& channel, ChannelListener* listener);
  void unroute(RedisClient::Kind kind, const std::string& channel);

  // From the Redis client (public for the fuzz target).
  void on_message(RedisClient::Kind kind, std::string_view channel, std::string_view pattern,
                  std::string_view payload);

 private:
  RedisClient& redis_;
  loop::TimerQueue& timers_;
  ClusterOptions options_;
  ClusterStats stats_;
  std::unordered_map<std::string, ChannelListener*> patterns_;
  std::unordered_map<std::string, ChannelListener*> channels_;
  std::mt19937_64 rng_;
  StreamLog* stream_log_ = nullptr;
};

}  // namespace daheim::cluster
