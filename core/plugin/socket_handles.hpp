// The dhl_socket handles plugins get: generation-checked indices into a
// table, never the Socket's address. A handle stays valid while its socket is
// connected (through the last on_disconnect callback); afterwards the table
// entry's generation moves on, so a handle a plugin kept is recognised as
// stale and refused (DHL_ERR_GONE) instead of reaching freed memory. Loop
// thread only.
//
// A handle is the integer (generation << half) | (index + 1), half being
// half the bits of a pointer: 2^32 reuses of one entry on 64-bit hosts
// before a generation comes round again (2^16 on 32-bit ones).
#pragma once

#include <cstdint>
#include <vector>

#include "daheim/plugin.h"

namespace daheim::socketio {
class Socket;
}

namespace daheim::plugin {

class SocketHandles {
 public:
  // The socket's handle, made on first use (its index kept in a Socket slot).
  dhl_socket* handle(socketio::Socket& socket);
  // The socket behind `handle`, or null: never issued (`known` false) or
  // its socket has left (`known` true).
  socketio::Socket* resolve(const dhl_socket* handle, bool& known) const;
  // The socket has left: its handle turns stale. Nothing if it had none.
  void release(socketio::Socket& socket);
  std::size_t size() const { return entries_.size() - free_.size(); }

 private:
  struct Entry {
    socketio::Socket* socket = nullptr;
    uintptr_t generation = 1;
  };
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_;
};

}  // namespace daheim::plugin
