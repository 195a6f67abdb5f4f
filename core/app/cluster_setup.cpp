#include "app/cluster_setup.hpp"

#include "log/log.hpp"
#include "ops/monitoring.hpp"
#include "socketio/in_memory_adapter.hpp"
#include "socketio/in_memory_session_store.hpp"
#include "socketio/namespace.hpp"
#include "transport/server.hpp"

namespace daheim::app {

std::unique_ptr<ClusterSetup> ClusterSetup::create(const ClusterConfig& config,
                                                   transport::Server& server,
                                                   loop::TimerQueue& timers, socketio::Server& io,
                                                   std::string& error) {
  cluster::RedisClientOptions options = config.redis;
  error = cluster::resolve_endpoint(config.address, options.endpoint);
  if (!error.empty()) return nullptr;
  std::unique_ptr<ClusterSetup> s(new ClusterSetup(io));
  s->redis_ = std::make_unique<cluster::RedisClient>(server.reactor(), timers, options);
  s->node_ = std::make_unique<cluster::ClusterNode>(*s->redis_, timers, config.options);
  cluster::NodeRegistryOptions nodes = config.nodes;
  nodes.key = config.options.key;
  nodes.id = s->node_->random_hex(16);
  s->registry_ = std::make_unique<cluster::NodeRegistry>(*s->redis_, timers, nodes);
  s->plugin_cluster_ =
      std::make_unique<PluginCluster>(*s->redis_, *s->registry_, config.plugin_redis_timeout);
  if (config.options.adapter == cluster::AdapterKind::Streams) {
    s->streams_ = std::make_unique<cluster::StreamLog>(server.reactor(), timers, *s->redis_,
                                                       options, config.streams);
    s->node_->set_stream_log(s->streams_.get());
    if (io.session_store() != nullptr) {
      auto store = std::make_unique<cluster::RedisSessionStore>(
          *s->streams_, *s->redis_, timers, io.options().recovery, config.session_key_prefix);
      s->sessions_ = store.get();
      io.set_session_store(std::move(store));
    }
  }
  io.set_adapter_factory(s->node_->adapter_factory());
  io.for_each_namespace([&](socketio::Namespace& nsp) { nsp.set_adapter(io.make_adapter(nsp)); });
  return s;
}

void ClusterSetup::start() {
  log::notice("cluster: node {} joining over Redis at {} (key \"{}\")", registry_->id(),
              redis_->endpoint().address.describe(), node_->options().key);
  redis_->start();
  if (streams_) streams_->start();
  redis_->set_state_handler([this](bool connected) {
    if (connected) registry_->start();
  });
}

// The namespaces outlive this node (the Socket.IO server is made first):
// they go back to in-memory adapters before the cluster ones lose their node.
ClusterSetup::~ClusterSetup() {
  redis_->set_state_handler(nullptr);
  registry_->stop();
  plugin_cluster_.reset();
  if (sessions_ != nullptr) {
    io_.set_session_store(
        std::make_unique<socketio::InMemorySessionStore>(io_.timers(), io_.options().recovery));
    sessions_ = nullptr;
  }
  if (streams_) streams_->stop();
  redis_->stop();
  io_.set_adapter_factory(nullptr);
  io_.for_each_namespace([&](socketio::Namespace& nsp) { nsp.set_adapter(io_.make_adapter(nsp)); });
}

void ClusterSetup::write_metrics(ops::MetricsWriter& w) const {
  const cluster::RedisClientStats& r = redis_->stats();
  const cluster::ClusterStats& s = node_->stats();
  w.gauge("daheim_cluster_connected", "1 while both Redis connections are up",
          redis_->connected() ? 1 : 0);
  w.gauge("daheim_cluster_subscriptions", "Redis channels and patterns subscribed",
          redis_->subscriptions());
  w.gauge("daheim_cluster_publish_buffered", "Publishes waiting for Redis",
          redis_->buffered_publishes());
  w.counter("daheim_cluster_published_total", "Messages published to Redis", r.published);
  w.counter("daheim_cluster_publish_dropped_total",
            "Publishes dropped while Redis was unreachable (buffer full)", r.publish_dropped);
  w.counter("daheim_cluster_broadcasts_published_total", "Broadcasts sent to the other nodes",
            s.broadcasts_published);
  w.counter("daheim_cluster_received_total", "Messages received from Redis (own included)",
            s.messages_received);
  w.counter("daheim_cluster_applied_total", "Messages from other nodes acted upon",
            s.messages_applied);
  w.counter("daheim_cluster_dropped_total", "Messages dropped as malformed or too large",
            s.messages_dropped);
  w.counter("daheim_cluster_request_timeouts_total",
            "Cluster requests completed without every node's answer", s.request_timeouts);
  w.counter("daheim_cluster_reconnects_total", "Redis reconnection attempts", r.reconnects);
  if (streams_) {
    const cluster::StreamLogStats& l = streams_->stats();
    w.counter("daheim_cluster_stream_added_total", "Entries this node added to the stream",
              l.added);
    w.counter("daheim_cluster_stream_add_failed_total",
              "Entries Redis did not take (delivered on this node only)", l.add_failed);
    w.counter("daheim_cluster_stream_read_total", "Entries read from the stream", l.read);
    w.counter("daheim_cluster_stream_reader_errors_total", "Stream reader errors and reconnects",
              l.reader_errors);
  }
  if (sessions_ != nullptr) {
    const cluster::RedisSessionStats& ss = sessions_->stats();
    w.counter("daheim_recovery_sessions_saved_total", "Session writes to Redis", ss.saved);
    w.counter("daheim_recovery_restored_total", "Sessions restored from Redis", ss.restored);
    w.counter("daheim_recovery_restore_failed_total",
              "Restores that found no session, a trimmed offset or no Redis", ss.restore_failed);
    w.counter("daheim_recovery_stale_writes_refused_total",
              "Session writes and deletes refused: a socket on another node restored the session",
              ss.stale_refused);
    w.counter("daheim_recovery_window_hits_total",
              "Restores whose missed events came from the in-memory window of the stream",
              ss.window_hits);
    w.counter("daheim_recovery_window_misses_total",
              "Restores whose offset was not in the window (missed events read from Redis)",
              ss.window_misses);
    w.gauge("daheim_recovery_window_entries", "Stream entries in the recovery window",
            streams_->window_entries());
    w.gauge("daheim_recovery_window_bytes",
            "Approximate memory of the recovery window (packets, rooms, index)",
            streams_->window_bytes());
  }
}

}  // namespace daheim::app
