// Connections refused at accept with an answer (engineio.maxConnectionsPerAddress's
// 429). Closing such a socket while the client's request sits unread in it
// makes the kernel reset the connection, and a reset can reach the client
// before it read the answer (it sees ECONNRESET instead of the 429). So the
// answer is written, the write side shut (the client reads the answer and
// end-of-file), and the socket kept until the client closed it, its bytes
// read and dropped, or until a deadline or a byte budget runs out.
// Service thread only.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <string_view>

#include "loop/fd_watch.hpp"
#include "loop/timer.hpp"

namespace daheim::transport {

struct RefusalLimits {
  loop::Millis linger{2000};  // longest a refused socket is kept (engineio.refusalLingerTime)
  std::size_t max_read_bytes = 65536;  // read and dropped before closing anyway
                                       // (engineio.refusalReadBytes)
  // Kept at once; past it the oldest is closed first (engineio.refusalMaxSockets).
  std::size_t max_sockets = 1024;
};

class RefusedConnections {
 public:
  RefusedConnections(loop::Reactor& reactor, loop::TimerQueue& timers, RefusalLimits limits = {});
  ~RefusedConnections();
  RefusedConnections(const RefusedConnections&) = delete;
  RefusedConnections& operator=(const RefusedConnections&) = delete;

  // Writes `answer` to `fd` (non-blocking) and keeps a duplicate of it until
  // the client closed; the caller closes `fd` itself as before. `read_budget`:
  // what may be read and dropped at least (the rest of a refused request),
  // when more than the limits' own. With max_sockets kept already, the one
  // kept longest is closed (0: none is kept). False: `fd` is not kept (the
  // caller's close ends it).
  bool refuse(int fd, std::string_view answer, std::size_t read_budget = 0);
  std::size_t lingering() const { return open_.size(); }
  // Closes every kept socket now (before the event loop goes).
  void clear();

 private:
  class Refused;
  void drop(Refused* r);

  loop::Reactor& reactor_;
  loop::TimerQueue& timers_;
  RefusalLimits limits_;
  std::list<std::unique_ptr<Refused>> open_;
};

}  // namespace daheim::transport
