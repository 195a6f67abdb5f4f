// The adapter of @socket.io/redis-adapter 8.x (classic pub/sub), for one
// namespace: local delivery as the in-memory adapter, plus every broadcast
// published to the other nodes in that adapter's wire format
// (reference/protocol.md §3), and their broadcasts and requests applied here.
//
// Channels (prefix `key`): `key#nsp#` and `key#nsp#<room>#` for broadcasts
// (PSUBSCRIBE `key#nsp#*`), `key-request#nsp#` for requests and
// `key-response#nsp#[uid#]` for answers (SUBSCRIBE).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "cluster/cluster_options.hpp"
#include "cluster/msgpack_json.hpp"
#include "socketio/in_memory_adapter.hpp"

namespace daheim::cluster {

class ClusterNode;

class PubSubAdapter final : public socketio::InMemoryAdapter {
 public:
  PubSubAdapter(socketio::Namespace& nsp, ClusterNode& node);
  ~PubSubAdapter() override;

  void broadcast(const socketio::EncodedPacket& packet,
                 const socketio::BroadcastOptions& opts) override;
  void add_sockets(const socketio::BroadcastOptions& opts,
                   std::span<const std::string_view> rooms) override;
  void del_sockets(const socketio::BroadcastOptions& opts,
                   std::span<const std::string_view> rooms) override;
  void disconnect_sockets(const socketio::BroadcastOptions& opts, bool close_transport) override;

  const std::string& uid() const { return uid_; }
  const std::string& channel() const { return channel_; }
  const std::string& request_channel() const { return request_channel_; }

  // From the node: a message on one of this adapter's channels.
  void on_broadcast_message(std::string_view channel, std::string_view payload);
  void on_request_message(std::string_view channel, std::string_view payload);

  // The broadcast message for `packet` (tests check its bytes).
  std::string encode_broadcast(const socketio::EncodedPacket& packet,
                               const socketio::BroadcastOptions& opts) const;

 private:
  void publish_request(std::string_view json);
  bool apply_broadcast(const msgpack::object& message);
  bool apply_request(const msgpack::object& request);

  ClusterNode& node_;
  std::string uid_;
  std::string channel_;
  std::string request_channel_;
  std::string response_channel_;
  std::string specific_response_channel_;
  std::string pattern_;
};

}  // namespace daheim::cluster
