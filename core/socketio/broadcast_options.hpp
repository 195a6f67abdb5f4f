// Who a broadcast goes to: plain data, so that a cluster adapter can send it
// to other nodes (socket.io-adapter BroadcastOptions).
#pragma once

#include <string>
#include <vector>

namespace daheim::socketio {

struct BroadcastFlags {
  bool volatile_ = false;  // skip recipients that cannot take the packet right now
  bool local = false;      // this node only: cluster adapters do not forward it
};

struct BroadcastOptions {
  std::vector<std::string> rooms;   // sockets in any of these rooms; all sockets when empty
  std::vector<std::string> except;  // minus the sockets in any of these rooms
  BroadcastFlags flags;
};

}  // namespace daheim::socketio
