// The cluster services of the plugin host (plugin::ClusterServices) on this
// node's Redis client and node registry: replies converted to the ABI's
// dhl_redis_reply tree, scripts by EVALSHA with the EVAL fallback.
#pragma once

#include <string>

#include "cluster/node_registry.hpp"
#include "cluster/redis_client.hpp"
#include "plugin/cluster_services.hpp"

namespace daheim::app {

class PluginCluster final : public plugin::ClusterServices {
 public:
  PluginCluster(cluster::RedisClient& redis, cluster::NodeRegistry& nodes,
                loop::Millis default_timeout)
      : redis_(redis), nodes_(nodes), default_timeout_(default_timeout) {}
  ~PluginCluster() override;

  std::string_view node_id() const override { return nodes_.id(); }
  loop::Millis default_timeout() const override { return default_timeout_; }
  bool command(std::span<const std::string_view> argv, RedisCallback callback) override;
  bool script(std::string_view script, std::span<const std::string_view> keys,
              std::span<const std::string_view> args, RedisCallback callback) override;
  void set_node_handler(NodeHandler handler) override;

 private:
  cluster::RedisClient& redis_;
  cluster::NodeRegistry& nodes_;
  loop::Millis default_timeout_;
};

}  // namespace daheim::app
