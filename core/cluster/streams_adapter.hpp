// The adapter of @socket.io/redis-streams-adapter 0.3 for one namespace
// (reference/cluster.md §1): broadcasts without ack, joins, leaves and
// disconnects are entries of the namespace's Redis stream (StreamLog);
// requests (fetchSockets, serverSideEmit, broadcasts with ack) go on pub/sub
// `key#nsp#`, answers on `key#nsp#<uid>#`, msgpack-encoded.
//
// A broadcast reaches this node's sockets when the stream reader reads it
// back, as it reaches every other node, so that every client sees the
// stream's order and, with connection-state recovery, the entry id as its
// offset. When Redis does not take it, it is delivered here without one.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cluster/sharded_adapter.hpp"
#include "cluster/stream_log.hpp"

namespace daheim::cluster {

class StreamsAdapter final : public ShardedAdapter, public StreamListener {
 public:
  StreamsAdapter(socketio::Namespace& nsp, ClusterNode& node, StreamLog& log);
  ~StreamsAdapter() override;

  void broadcast(const socketio::EncodedPacket& packet,
                 const socketio::BroadcastOptions& opts) override;
  void add_sockets(const socketio::BroadcastOptions& opts,
                   std::span<const std::string_view> rooms) override;
  void del_sockets(const socketio::BroadcastOptions& opts,
                   std::span<const std::string_view> rooms) override;
  void disconnect_sockets(const socketio::BroadcastOptions& opts, bool close_transport) override;
  // The reader is up: a broadcast now is an XADD (when_logged: its answer).
  bool can_log() const override { return log_.reading(); }

  void on_stream_entry(const StreamEntry& entry) override;

  const std::string& stream() const { return stream_; }
  // The XADD fields (uid, nsp, type, data) of a message (tests check them).
  std::vector<std::string> entry_fields(int type, std::string_view data) const;

 protected:
  void publish(std::string_view channel, std::string_view message,
               BroadcastConfirmation::Answer answer = nullptr) override;

 private:
  void add(int type, std::string data);

  StreamLog& log_;
  std::string stream_;
};

}  // namespace daheim::cluster
