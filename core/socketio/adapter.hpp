// Room bookkeeping and delivery for one namespace, in socket.io-adapter's
// shape: rooms -> sockets and sockets -> rooms. The in-memory adapter serves
// one process; a cluster adapter (Redis) extends it to other nodes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/broadcast_options.hpp"
#include "socketio/encoder.hpp"

namespace daheim::socketio {

class BroadcastAck;
class Socket;

// A socket on any node of a cluster, as fetch_sockets_async reports it.
struct RemoteSocket {
  std::string id;
  std::vector<std::string> rooms;
  std::string handshake_json;  // socket.io's handshake object
  std::string data_json;       // socket.data; "{}" when unset
};
// `complete`: every node answered before the timeout.
using FetchSocketsCallback = std::function<void(std::vector<RemoteSocket> sockets, bool complete)>;
using RoomsCallback = std::function<void(std::vector<std::string> rooms, bool complete)>;
// The first argument each other node's handler acked with, as JSON.
using ServerSideEmitCallback =
    std::function<void(std::vector<std::string> answers_json, bool complete)>;

// The description of a local socket that fetch_sockets_async reports.
RemoteSocket describe_socket(const Socket& socket);

class Adapter {
 public:
  virtual ~Adapter() = default;

  // Room membership of local sockets. The socket must be registered in the
  // namespace (Namespace::find_socket); unknown ids are ignored.
  virtual void add_all(std::string_view socket_id, std::span<const std::string_view> rooms) = 0;
  virtual void del(std::string_view socket_id, std::string_view room) = 0;
  virtual void del_all(std::string_view socket_id) = 0;

  // Sends the encoded packet (the same frames) to every connected socket
  // the options select.
  virtual void broadcast(const EncodedPacket& packet, const BroadcastOptions& opts) = 0;
  // Same, for a packet carrying ack id `ack_id`: registers `ack` with every
  // reached socket and reports the number reached with
  // ack->add_client_count() (once per server).
  virtual void broadcast_with_ack(const EncodedPacket& packet, uint64_t ack_id,
                                  const BroadcastOptions& opts,
                                  const std::shared_ptr<BroadcastAck>& ack) = 0;
  // Servers that report client counts for broadcast_with_ack.
  virtual std::size_t server_count() const { return 1; }

  // Ids of the connected sockets in any of `rooms` (all when empty).
  virtual std::vector<std::string> sockets(std::span<const std::string> rooms) = 0;
  // Rooms of one socket (its own id included).
  virtual std::vector<std::string> socket_rooms(std::string_view socket_id) = 0;

  // The local connected sockets the options select. The pointers are valid
  // until control returns to the event loop.
  virtual std::vector<Socket*> fetch_sockets(const BroadcastOptions& opts) = 0;
  // Make the selected sockets join / leave rooms, or disconnect them.
  virtual void add_sockets(const BroadcastOptions& opts,
                           std::span<const std::string_view> rooms) = 0;
  virtual void del_sockets(const BroadcastOptions& opts,
                           std::span<const std::string_view> rooms) = 0;
  virtual void disconnect_sockets(const BroadcastOptions& opts, bool close_transport) = 0;

  // Cluster-wide questions. A single node answers at once (before the call
  // returns) with its own sockets and rooms; a cluster adapter asks the
  // other nodes and answers when all did or at the timeout, with what came.
  virtual void fetch_sockets_async(const BroadcastOptions& opts, FetchSocketsCallback callback);
  virtual void all_rooms_async(RoomsCallback callback);
  // Sends event `event` with `args` (a JSON array text) to the other nodes'
  // server-side handlers (Namespace::on_server_side_emit). With a callback
  // their acks are collected. A single node calls it at once with none.
  virtual void server_side_emit(std::string_view event, std::string_view args,
                                ServerSideEmitCallback callback);
  // True: broadcast_with_ack reports the server count to the BroadcastAck
  // itself, later (the namespace must not use server_count()).
  virtual bool reports_server_count() const { return false; }

  // Where broadcasts go through a log the cluster shares (the streams
  // adapter's XADD), a caller that must not report a broadcast as taken
  // before the log has it (POST /api/v1/push) asks:
  // - can_log(): whether a broadcast made now would be logged (false: it
  //   would only reach this node's sockets; Redis is unreachable);
  // - expect_logged(), right before the broadcast: the caller will call
  //   when_logged (an adapter keeps a record of Redis's answer only then);
  // - when_logged(done), right after the broadcast: `done` runs once, on
  //   the loop, when Redis answered it (Logged::Yes), refused it or lost the
  //   connection first (Refused; the broadcast is then not delivered here
  //   either), or did not answer within cluster.requestsTimeout (TimedOut;
  //   it may still be delivered later).
  // Adapters without such a log: true, and Yes at once.
  enum class Logged { Yes, Refused, TimedOut };
  virtual bool can_log() const { return true; }
  virtual void expect_logged() {}
  virtual void when_logged(std::function<void(Logged)> done) { done(Logged::Yes); }
};

}  // namespace daheim::socketio
