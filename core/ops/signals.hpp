// Process signals: SIGTERM and SIGINT stop the server gracefully, SIGHUP
// asks for a reload that runs on the event loop; SIGUSR2 writes the heap
// profile of an ASan build to stderr (ops::print_heap_profile, on the loop);
// SIGPIPE is ignored. The handlers are process-wide: one Signals at a time.
#pragma once

#include <functional>

#include "transport/server.hpp"

namespace daheim::ops {

class Signals {
 public:
  // `reload` runs on the loop after each SIGHUP.
  Signals(transport::Server& server, std::function<void()> reload);
  ~Signals();
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;
};

}  // namespace daheim::ops
