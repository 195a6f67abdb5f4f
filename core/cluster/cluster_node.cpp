#include "cluster/cluster_node.hpp"

#include "cluster/pubsub_adapter.hpp"
#include "cluster/sharded_adapter.hpp"
#include "cluster/streams_adapter.hpp"

namespace daheim::cluster {

ClusterNode::ClusterNode(RedisClient& redis, loop::TimerQueue& timers, ClusterOptions options)
    : redis_(redis), timers_(timers), options_(std::move(options)), rng_(std::random_device{}()) {
  redis_.set_message_handler(
      [this](RedisClient::Kind kind, std::string_view channel, std::string_view pattern,
             std::string_view payload) { on_message(kind, channel, pattern, payload); });
}

ClusterNode::~ClusterNode() {
  redis_.set_message_handler(nullptr);
}

socketio::Server::AdapterFactory ClusterNode::adapter_factory() {
  return [this](socketio::Namespace& nsp) -> std::unique_ptr<socketio::Adapter> {
    if (options_.adapter == AdapterKind::Streams && stream_log_ != nullptr)
      return std::make_unique<StreamsAdapter>(nsp, *this, *stream_log_);
    if (options_.adapter == AdapterKind::Sharded)
      return std::make_unique<ShardedAdapter>(nsp, *this);
    return std::make_unique<PubSubAdapter>(nsp, *this);
  };
}

std::string ClusterNode::random_id(std::size_t n) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string id;
  for (std::size_t i = 0; i < n; ++i) id += kAlphabet[pick(rng_)];
  return id;
}

std::string ClusterNode::random_hex(std::size_t n) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::uniform_int_distribution<std::size_t> pick(0, 15);
  std::string id;
  for (std::size_t i = 0; i < n; ++i) id += kHex[pick(rng_)];
  return id;
}

void ClusterNode::route(RedisClient::Kind kind, const std::string& channel,
                        ChannelListener* listener) {
  (kind == RedisClient::Kind::Pattern ? patterns_ : channels_)[channel] = listener;
  redis_.subscribe(kind, channel);
}

void ClusterNode::unroute(RedisClient::Kind kind, const std::string& channel) {
  (kind == RedisClient::Kind::Pattern ? patterns_ : channels_).erase(channel);
  redis_.unsubscribe(kind, channel);
}

void ClusterNode::on_message(RedisClient::Kind kind, std::string_view channel,
                             std::string_view pattern, std::string_view payload) {
  ++stats_.messages_received;
  if (payload.size() > options_.max_message_bytes) {
    ++stats_.messages_dropped;
    return;
  }
  if (kind == RedisClient::Kind::Pattern) {
    auto it = patterns_.find(std::string(pattern));
    if (it == patterns_.end()) return;  // unsubscribed meanwhile
    it->second->on_cluster_message(kind, channel, payload);
    return;
  }
  auto it = channels_.find(std::string(channel));
  if (it == channels_.end()) return;  // unsubscribed meanwhile
  it->second->on_cluster_message(kind, channel, payload);
}

}  // namespace daheim::cluster
