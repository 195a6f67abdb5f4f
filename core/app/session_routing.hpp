// Sessions served by any node of a cluster (issue 16): the internal listener
// other nodes forward to, the route registry in Redis that names it, and
// the endpoint's forwarding, wired together; with the forwarding metrics.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "app/cluster_config.hpp"
#include "cluster/route_registry.hpp"
#include "transport/server.hpp"
#include "transport/session_router.hpp"

namespace daheim::ops {
class MetricsWriter;
}  // namespace daheim::ops

namespace daheim::app {

class SessionRouting final : public transport::SessionRouter {
 public:
  // Appends the internal listener to `server` (before it starts).
  static void add_listener(const ClusterConfig& config, transport::ServerOptions& server);
  SessionRouting(cluster::RedisClient& redis, loop::TimerQueue& timers,
                 const ClusterConfig& config);
  ~SessionRouting() override;
  // After the server started: advertises the internal listener (the last
  // one) and turns forwarding on in the endpoint.
  void start(transport::Server& server, transport::EngineIoEndpoint& endpoint);
  // Runs `ready` once Redis confirmed this node's route key (at once if it
  // has): before that a request another node forwards here would be
  // "Session ID unknown". Not confirmed within nodeTtl: a warning, and
  // `ready` still waits for it.
  void when_reachable(std::function<void()> ready);
  void write_metrics(ops::MetricsWriter& w, const transport::EngineIoEndpoint& endpoint) const;

  const std::string& tag() const override { return registry_.tag(); }
  void locate(std::string_view sid, Done done) override;
  void forget(std::string_view sid) override { registry_.forget(sid); }

 private:
  void reachable();

  const ClusterConfig& config_;
  cluster::RouteRegistry registry_;
  std::function<void()> ready_;
  bool warned_ = false;
  loop::Timer late_;  // nodeTtl passed without the route key
};

}  // namespace daheim::app
