// Runs this node as a cluster member when the config has a `cluster`
// section: the Redis client on the server's loop, the cluster adapters on
// every namespace, the cluster's /metrics families and /healthz field.
#pragma once

#include <memory>
#include <string>

#include "app/cluster_config.hpp"
#include "app/plugin_cluster.hpp"
#include "cluster/cluster_node.hpp"
#include "cluster/node_registry.hpp"
#include "cluster/redis_client.hpp"
#include "cluster/redis_session_store.hpp"
#include "cluster/stream_log.hpp"

namespace daheim::transport {
class Server;
}

namespace daheim::app {}  // namespace daheim::app
namespace daheim::ops {
class MetricsWriter;
}  // namespace daheim::ops
namespace daheim::app {

class ClusterSetup {
 public:
  // Before any socket connects. Null with `error` set: the address does
  // not resolve.
  static std::unique_ptr<ClusterSetup> create(const ClusterConfig& config,
                                              transport::Server& server, loop::TimerQueue& timers,
                                              socketio::Server& io, std::string& error);
  // After the server started (its loop watches the descriptors).
  void start();
  ~ClusterSetup();
  ClusterSetup(const ClusterSetup&) = delete;
  ClusterSetup& operator=(const ClusterSetup&) = delete;
  bool connected() const { return redis_->connected(); }
  cluster::ClusterNode& node() { return *node_; }
  cluster::RedisClient& redis() { return *redis_; }
  // The plugin host's services (ABI 1.3).
  plugin::ClusterServices* plugin_services() { return plugin_cluster_.get(); }
  void write_metrics(ops::MetricsWriter& w) const;
  // Session writes Redis has not answered yet (a stopping node waits).
  std::size_t pending_writes() const { return sessions_ ? sessions_->pending_writes() : 0; }

 private:
  explicit ClusterSetup(socketio::Server& io) : io_(io) {}
  socketio::Server& io_;
  std::unique_ptr<cluster::RedisClient> redis_;
  std::unique_ptr<cluster::ClusterNode> node_;
  std::unique_ptr<cluster::NodeRegistry> registry_;
  std::unique_ptr<cluster::StreamLog> streams_;
  cluster::RedisSessionStore* sessions_ = nullptr;  // owned by the Socket.IO server
  std::unique_ptr<PluginCluster> plugin_cluster_;
};

}  // namespace daheim::app
