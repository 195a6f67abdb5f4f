// Presence over all nodes of a cluster: the state in Redis (redis_scripts.hpp,
// one atomic script per operation) through the host's connection. A change
// is announced to the plugin on the other nodes (node message "changed");
// every node then reads the state (at most once per the smaller of
// onlineInterval and readyUsersInterval: the changes within it are read
// together) and sends `online` / `readyUsers` to its own sockets when they
// differ from what it sent last. When a node leaves
// (its heartbeat expired), every node drops its connections (idempotent:
// the first one does the work and announces it). Each node also keeps its
// own connections in memory and writes them to Redis again (kSyncNode) when
// a change could not reach Redis or Redis lost them (restarted empty).
// Loop thread only.
#pragma once

#include <daheim/plugin.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "coalescer.hpp"
#include "config.hpp"

namespace presence {

class RedisPresence {
 public:
  RedisPresence(dhl::Host& host, const Config& cfg);

  // A tracked socket (user, role, socket id) connected / left. `restored`:
  // the ready topic a recovered socket's session kept (set again when the
  // flag expired while the user was offline).
  void connect(const std::string& user, const std::string& role, const std::string& socket,
               bool teacher_room, const std::optional<dhl::Json>& restored = std::nullopt);
  void disconnect(const std::string& user, const std::string& socket);
  // $ready: resolves {} once Redis has it.
  dhl::Future ready(const std::string& user, bool flag, const dhl::Json& topic);
  // $presence.list
  dhl::Future list(std::size_t offset, std::size_t limit);
  // The ready topic of a user with a socket on this node, as Redis last
  // answered it (saveSession keeps it with the socket's session).
  std::optional<dhl::Json> ready_topic(const std::string& user) const;

 private:
  using Done = std::function<void(const dhl::RedisReply& reply)>;
  // Runs a script with the prefix as ARGV[1]; false: not sent (logged).
  bool run(std::string_view body, std::vector<std::string> args, Done done,
           std::function<void()> failed = nullptr);
  void changed();
  // Asks for a read of the state (coalesced: see reads_).
  void refresh();
  void read_state();
  void on_state(const dhl::RedisReply& counts, const dhl::RedisReply& ready);
  dhl::Json counts_json(const dhl::RedisReply& flat) const;
  static dhl::Json ready_json(const dhl::RedisReply& flat);
  void expire();
  void drop_node(std::string_view node);
  void sync();
  // What Redis answered of a local user's flag; when it changed, the
  // sessions of the user's sockets here are saved again.
  void note_ready(const std::string& user, std::optional<dhl::Json> topic);

  dhl::Host& host_;
  const Config& cfg_;
  std::string prefix_;
  struct Connection {
    std::string user;
    std::string role;
  };
  std::map<std::string, Connection> local_;  // this node's, by socket id
  std::map<std::string, dhl::Json> ready_;   // local users' ready topics, by user
  bool unsynced_ = true;                     // a change did not reach Redis (or not synced yet)
  bool syncing_ = false;
  bool refreshing_ = false;
  bool refresh_again_ = false;
  std::optional<dhl::Json> last_online_;
  std::optional<dhl::Json> last_ready_users_;
  dhl::Timer expiry_;
  Coalescer reads_;  // one state read per interval
  dhl::NodeEvents events_;
  dhl::NodeMessages messages_;
};

}  // namespace presence
