// The adapter of @socket.io/redis-adapter's createShardedAdapter (8.2+,
// Redis 7 SPUBLISH/SSUBSCRIBE), subscription mode "dynamic", for one
// namespace (reference/cluster.md §2). socket.io-adapter's ClusterAdapter
// messages {type, data, uid, nsp}: JSON, or msgpack when binary.
//
// Channels (prefix `key`): `key#nsp#` (every node), `key#nsp#<uid>#` (the
// answers to this node), and `key#nsp#<room>#` for each public room while
// this node has a member in it: a broadcast to one room that is not a socket
// id (20 characters) goes there, so nodes without members get nothing.
//
// It carries socket.io-adapter's ClusterAdapter protocol; StreamsAdapter
// reuses it over plain pub/sub and a Redis stream.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cluster/broadcast_confirmation.hpp"
#include "cluster/cluster_node.hpp"
#include "cluster/msgpack_json.hpp"
#include "loop/timer.hpp"
#include "socketio/in_memory_adapter.hpp"

namespace daheim::cluster {

class ShardedAdapter : public socketio::InMemoryAdapter, public ChannelListener {
 public:
  ShardedAdapter(socketio::Namespace& nsp, ClusterNode& node);
  ~ShardedAdapter() override;

  void broadcast(const socketio::EncodedPacket& packet,
                 const socketio::BroadcastOptions& opts) override;
  void broadcast_with_ack(const socketio::EncodedPacket& packet, uint64_t ack_id,
                          const socketio::BroadcastOptions& opts,
                          const std::shared_ptr<socketio::BroadcastAck>& ack) override;
  bool reports_server_count() const override { return true; }
  // Redis is reachable: a broadcast now is published (when_logged: Redis's
  // answer to its SPUBLISH).
  bool can_log() const override;
  void expect_logged() override { confirmation_.expect(); }
  void when_logged(std::function<void(Logged)> done) override;
  void add_sockets(const socketio::BroadcastOptions& opts,
                   std::span<const std::string_view> rooms) override;
  void del_sockets(const socketio::BroadcastOptions& opts,
                   std::span<const std::string_view> rooms) override;
  void disconnect_sockets(const socketio::BroadcastOptions& opts, bool close_transport) override;
  void fetch_sockets_async(const socketio::BroadcastOptions& opts,
                           socketio::FetchSocketsCallback callback) override;
  void server_side_emit(std::string_view event, std::string_view args,
                        socketio::ServerSideEmitCallback callback) override;

  void on_cluster_message(RedisClient::Kind kind, std::string_view channel,
                          std::string_view payload) override;

  const std::string& uid() const { return uid_; }
  // The message and channel a broadcast goes out as (tests check them).
  std::string encode_broadcast(const socketio::EncodedPacket& packet,
                               const socketio::BroadcastOptions& opts,
                               std::string_view request_id = {}, int64_t timeout_ms = -1) const;
  std::string channel_for(const socketio::BroadcastOptions& opts, bool with_ack) const;
  // SHARDNUMSUB (NUMSUB over plain pub/sub) of the main channel (0 when
  // Redis cannot be asked).
  void count_servers(std::function<void(std::size_t)> callback);

 protected:
  // Over `kind` (Shard: this adapter; Channel: no room channels), with `uid`.
  ShardedAdapter(socketio::Namespace& nsp, ClusterNode& node, RedisClient::Kind kind,
                 std::string uid);
  void on_room_created(const std::string& room) override;
  void on_room_deleted(const std::string& room) override;
  // Every message to the other nodes goes out here; `answer` (a broadcast's)
  // takes Redis's answer.
  virtual void publish(std::string_view channel, std::string_view message,
                       BroadcastConfirmation::Answer answer = nullptr);
  // A ClusterAdapter message {uid, nsp, type, data} from another node.
  bool apply(const msgpack::object& message);
  std::string envelope(int type, std::string_view data_json) const;
  ClusterNode& node() const { return node_; }
  std::weak_ptr<bool> alive_token() const { return alive_; }
  BroadcastConfirmation& confirmation() { return confirmation_; }

 private:
  struct Pending {
    std::size_t expected = 0;
    std::size_t got = 0;
    std::function<void(const msgpack::object& data)> on_answer;
    std::function<void(bool complete)> done;
    std::unique_ptr<loop::Timer> timer;
  };
  void publish_json(int type, std::string_view data_json);
  void respond(std::string_view requester, int type, std::string_view data_json);
  bool apply_broadcast(const msgpack::object& data, std::string_view requester);
  bool apply_response(int type, const msgpack::object& data);
  void ask(int type, std::string data_json_with_slot, Pending pending);
  void finish(const std::string& request_id, bool complete);
  bool room_channel(std::string_view room) const;

  ClusterNode& node_;
  RedisClient::Kind kind_;
  std::string uid_;
  std::string channel_;           // key#nsp#
  std::string response_channel_;  // key#nsp#uid#
  std::unordered_map<std::string, Pending> pending_;
  std::unordered_map<std::string, std::weak_ptr<socketio::BroadcastAck>> ack_requests_;
  BroadcastConfirmation confirmation_;  // the last broadcast's
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace daheim::cluster
