// What the plugin host needs from the cluster layer for the ABI 1.3 host
// services (node id, membership, Redis commands). The app wires the real
// one (app/plugin_cluster); without a cluster the host has none and answers
// DHL_ERR_UNAVAILABLE. Loop thread only.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "daheim/plugin.h"
#include "loop/timer.hpp"

namespace daheim::plugin {

class ClusterServices {
 public:
  // status DHL_OK, DHL_ERR_REDIS (reply: the error) or DHL_ERR_UNAVAILABLE
  // (reply null: the connection was lost first).
  using RedisCallback = std::function<void(int status, const dhl_redis_reply* reply)>;
  using NodeHandler = std::function<void(bool joined, std::string_view node_id)>;

  virtual ~ClusterServices() = default;
  virtual std::string_view node_id() const = 0;
  // For calls with timeout_ms 0.
  virtual loop::Millis default_timeout() const = 0;
  // false: not connected (the callback is not kept).
  virtual bool command(std::span<const std::string_view> argv, RedisCallback callback) = 0;
  virtual bool script(std::string_view script, std::span<const std::string_view> keys,
                      std::span<const std::string_view> args, RedisCallback callback) = 0;
  // One handler (the host's), for every node joining or leaving.
  virtual void set_node_handler(NodeHandler handler) = 0;
};

}  // namespace daheim::plugin
