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
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cluster/broadcast_confirmation.hpp"
#include "cluster/cluster_node.hpp"
#include "cluster/cluster_options.hpp"
#include "cluster/msgpack_json.hpp"
#include "loop/timer.hpp"
#include "socketio/in_memory_adapter.hpp"

namespace daheim::cluster {

class PubSubAdapter final : public socketio::InMemoryAdapter, public ChannelListener {
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
  void broadcast_with_ack(const socketio::EncodedPacket& packet, uint64_t ack_id,
                          const socketio::BroadcastOptions& opts,
                          const std::shared_ptr<socketio::BroadcastAck>& ack) override;
  bool reports_server_count() const override { return true; }
  // Redis is reachable: a broadcast now is published (when_logged: Redis's
  // answer to its PUBLISH).
  bool can_log() const override;
  void expect_logged() override { confirmation_.expect(); }
  void when_logged(std::function<void(Logged)> done) override;
  std::size_t server_count() const override { return last_server_count_; }
  void fetch_sockets_async(const socketio::BroadcastOptions& opts,
                           socketio::FetchSocketsCallback callback) override;
  void all_rooms_async(socketio::RoomsCallback callback) override;
  void server_side_emit(std::string_view event, std::string_view args,
                        socketio::ServerSideEmitCallback callback) override;

  // PUBSUB NUMSUB of the request channel: the nodes of this namespace (0
  // when Redis cannot be asked).
  void count_servers(std::function<void(std::size_t)> callback);

  const std::string& uid() const { return uid_; }
  const std::string& channel() const { return channel_; }
  const std::string& request_channel() const { return request_channel_; }

  void on_cluster_message(RedisClient::Kind kind, std::string_view channel,
                          std::string_view payload) override;
  // From the node: a message on one of this adapter's channels.
  void on_broadcast_message(std::string_view channel, std::string_view payload);
  void on_request_message(std::string_view channel, std::string_view payload);

  // The broadcast message for `packet` (tests check its bytes).
  std::string encode_broadcast(const socketio::EncodedPacket& packet,
                               const socketio::BroadcastOptions& opts) const;

 private:
  // One question to the other nodes: `expected` answers, each handed to
  // `on_answer`; `done(complete)` once, when all came or at the timeout.
  struct Pending {
    std::size_t expected = 0;
    std::size_t got = 0;
    std::function<void(const msgpack::object& answer)> on_answer;
    std::function<void(bool complete)> done;
    std::unique_ptr<loop::Timer> timer;
  };
  bool pack_packet(Packer& pk, const socketio::EncodedPacket& packet) const;
  // {rooms, except, flags}; flags.timeout when `timeout_ms` >= 0.
  void pack_options(Packer& pk, const socketio::BroadcastOptions& opts,
                    int64_t timeout_ms = -1) const;
  void publish_request(std::string_view json);
  void publish_rooms_request(int type, const socketio::BroadcastOptions& opts,
                             std::span<const std::string_view> rooms);
  void publish_response(const msgpack::object& request, std::string_view payload);
  bool apply_broadcast(const msgpack::object& message);
  bool apply_request(const msgpack::object& request);
  bool answer_sockets(const msgpack::object& request, bool full);
  bool answer_all_rooms(const msgpack::object& request);
  bool answer_server_side_emit(const msgpack::object& request);
  bool answer_broadcast_with_ack(const msgpack::object& request);
  bool apply_response(const msgpack::object& response);
  // Asks the other nodes (after NUMSUB); `request` is the JSON with
  // REQUEST_ID where the id goes.
  void ask(std::string request_json, Pending pending);
  void finish(const std::string& request_id, bool complete);
  std::string next_request_id();

  ClusterNode& node_;
  std::string uid_;
  std::string channel_;
  std::string request_channel_;
  std::string response_channel_;
  std::string specific_response_channel_;
  std::string pattern_;
  std::unordered_map<std::string, Pending> pending_;
  std::unordered_map<std::string, std::weak_ptr<socketio::BroadcastAck>> ack_requests_;
  BroadcastConfirmation confirmation_;  // the last broadcast's
  std::size_t last_server_count_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace daheim::cluster
