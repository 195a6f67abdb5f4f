#include "app/session_routing.hpp"

#include <utility>

#include "log/log.hpp"
#include "ops/monitoring.hpp"

namespace daheim::app {

void SessionRouting::add_listener(const ClusterConfig& config, transport::ServerOptions& server) {
  transport::ListenerOptions internal;
  internal.host = config.internal_host;
  internal.port = config.internal_port;
  internal.services = transport::kServiceSocketIo;
  server.listeners.push_back(internal);
}

SessionRouting::SessionRouting(cluster::RedisClient& redis, loop::TimerQueue& timers,
                               const ClusterConfig& config)
    : config_(config),
      registry_(redis, timers, {config.options.key, config.nodes.interval, config.nodes.ttl}),
      late_(timers, [this] {
        warned_ = true;
        log::warning(
            "cluster: Redis has not confirmed this node's route key ({}#route#{}) after {} ms "
            "(cluster.nodeTtl): not ready until it has (other nodes cannot forward here)",
            config_.options.key, registry_.tag(), config_.nodes.ttl.count());
      }) {}

SessionRouting::~SessionRouting() {
  registry_.stop();
}

void SessionRouting::start(transport::Server& server, transport::EngineIoEndpoint& endpoint) {
  std::size_t last = server.listener_count() - 1;
  std::string url = server.url(last);
  std::string bound = url.substr(url.find("://") + 3);
  std::string address = bound;
  if (!config_.internal_address.empty())
    address = config_.internal_address + bound.substr(bound.rfind(':'));
  registry_.start(address, [this] { reachable(); });
  endpoint.set_forwarding(*this, server.reactor());
  log::notice("cluster: sessions of this node are reached at {} (sid prefix {})", address,
              registry_.tag());
}

void SessionRouting::when_reachable(std::function<void()> ready) {
  if (registry_.advertised()) return ready();
  ready_ = std::move(ready);
  late_.arm(config_.nodes.ttl);
}

void SessionRouting::reachable() {
  late_.disarm();
  if (warned_) log::notice("cluster: Redis confirmed this node's route key");
  if (std::function<void()> f = std::exchange(ready_, nullptr)) f();
}

void SessionRouting::locate(std::string_view sid, Done done) {
  registry_.resolve(sid, std::move(done));
}

void SessionRouting::write_metrics(ops::MetricsWriter& w,
                                   const transport::EngineIoEndpoint& endpoint) const {
  const transport::SessionForwarder* f = endpoint.forwarder();
  if (!f) return;
  const transport::ForwardStats& s = f->stats();
  w.counter("daheim_forward_requests_total",
            "Polling requests for sessions on other nodes, by outcome", "outcome",
            {{"forwarded", s.polls_forwarded},
             {"unknown_sid", s.polls_unknown},
             {"no_answer", s.polls_failed}});
  w.family("daheim_forward_duration_seconds", "histogram",
           "Forwarded polling requests, from the request to the owner's answer");
  w.histogram("daheim_forward_duration_seconds", {{"method", "GET"}}, transport::ForwardStats::kLe,
              s.get_latency.buckets, s.get_latency.sum);
  w.histogram("daheim_forward_duration_seconds", {{"method", "POST"}}, transport::ForwardStats::kLe,
              s.post_latency.buckets, s.post_latency.sum);
  w.counter("daheim_forward_websockets_total",
            "WebSocket upgrades carried to the node holding their session", s.websockets_carried);
  w.counter("daheim_forward_websockets_refused_total",
            "Carried WebSockets the owner did not take (unknown session, node gone)",
            s.websockets_refused);
  w.gauge("daheim_forward_websockets", "WebSockets carried to other nodes now", f->carried_now());
  w.counter("daheim_forward_messages_total", "Messages carried, both ways", s.messages_carried);
  w.counter("daheim_forward_connections_reused_total",
            "Forwarded requests sent on a kept-alive connection to their node", f->pool().reused());
  w.gauge("daheim_forward_connections_idle",
          "Kept-alive connections to other nodes waiting for a request", f->pool().idle());
  w.counter("daheim_forward_route_lookups_total",
            "Redis lookups of another node's internal address", registry_.lookups());
}

}  // namespace daheim::app
