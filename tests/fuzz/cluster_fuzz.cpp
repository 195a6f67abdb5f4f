// libFuzzer target for what arrives from Redis (core/cluster): the cluster
// adapter's inbound path with three connected sockets in "/", two of them in
// room "room1". The first input byte picks the channel:
//   0  the broadcast channel socket.io#/#       (msgpack [uid, packet, opts])
//   1  the room channel socket.io#/#room1#
//   2  the request channel socket.io-request#/#  (JSON or msgpack requests)
//   3  the response channel socket.io-response#/#
// Nothing may crash, leak or grow without bound; the frames the sockets
// receive are discarded after each input.
//
// Run: cluster_fuzz -max_total_time=20 CORPUS_DIR tests/fuzz/corpus/cluster_fuzz
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "cluster/cluster_node.hpp"
#include "cluster/redis_client.hpp"
#include "fake_connection.hpp"
#include "fake_timer_queue.hpp"
#include "socketio/client.hpp"
#include "socketio/namespace.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace {

using namespace daheim;

// Never watches anything: the Redis client stays disconnected, so what the
// adapter publishes is buffered up to its bound and then dropped.
struct NoReactor final : loop::Reactor {
  std::unique_ptr<loop::FdWatch> watch(int, loop::FdEvents&) override { return nullptr; }
};

struct Peer {
  explicit Peer(testing::FakeTimerQueue& t) : conn(t) {}
  testing::FakeConnection conn;
  std::unique_ptr<engineio::Handler> handler;
};

struct World {
  testing::FakeTimerQueue timers;
  NoReactor reactor;
  cluster::RedisClientOptions redis_options = [] {
    cluster::RedisClientOptions o;
    o.publish_buffer_bytes = 64 * 1024;
    return o;
  }();
  cluster::RedisClient redis{reactor, timers, redis_options};
  cluster::ClusterNode node{redis, timers, cluster::ClusterOptions{}};
  socketio::Server io{timers};
  std::vector<std::unique_ptr<Peer>> peers;

  World() {
    io.set_adapter_factory(node.adapter_factory());
    io.of("/").set_adapter(io.make_adapter(io.of("/")));
    io.of("/").on_server_side_emit(
        [](std::string_view, std::string_view, socketio::Namespace::ServerSideAck ack) {
          if (ack) ack("{\"ok\":true}");
        });
  }

  // Three connected sockets, two in room1 (again after a fuzz input
  // disconnected them).
  void refill() {
    std::erase_if(peers, [](const auto& p) { return p->conn.closed.has_value(); });
    while (peers.size() < 3) {
      auto p = std::make_unique<Peer>(timers);
      p->handler = io.make_client(p->conn);
      p->conn.handler = p->handler.get();
      p->handler->on_message("0");
      socketio::Socket* s = static_cast<socketio::Client&>(*p->handler).socket("/");
      if (s != nullptr && peers.size() < 2) s->join("room1");
      peers.push_back(std::move(p));
    }
    for (auto& p : peers) p->conn.frames.clear();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  if (size == 0) return 0;
  world->refill();
  std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  using Kind = cluster::RedisClient::Kind;
  switch (data[0] % 4) {
    case 0:
      world->node.on_message(Kind::Pattern, "socket.io#/#", "socket.io#/#*", payload);
      break;
    case 1:
      world->node.on_message(Kind::Pattern, "socket.io#/#room1#", "socket.io#/#*", payload);
      break;
    case 2:
      world->node.on_message(Kind::Channel, "socket.io-request#/#", {}, payload);
      break;
    default:
      world->node.on_message(Kind::Channel, "socket.io-response#/#", {}, payload);
      break;
  }
  world->timers.advance(loop::Millis(6000));  // expire what the input started
  for (auto& p : world->peers) p->conn.frames.clear();
  return 0;
}
