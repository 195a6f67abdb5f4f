// Readiness of a file descriptor, from whatever event loop runs the server.
// The cluster layer (Redis) owns its sockets and does its own reads and writes; the
// loop only says when a descriptor is readable or writable. The transport
// implements Reactor on libwebsockets (a raw-file wsi per descriptor, so it
// works on every event loop lws runs on); tests implement it on poll().
#pragma once

#include <memory>

namespace daheim::loop {

class FdEvents {
 public:
  virtual ~FdEvents() = default;
  virtual void on_readable() = 0;
  // Once per want_write() request.
  virtual void on_writable() = 0;
};

// Watching one descriptor. Destroying it stops the callbacks at once (none
// arrives after the destructor returned); the descriptor itself stays open
// and belongs to the caller.
class FdWatch {
 public:
  virtual ~FdWatch() = default;
  // Asks for one on_writable() when the descriptor can take more bytes.
  virtual void want_write() = 0;
  // Stops on_readable() until resume_read() (a peer at end-of-file stays
  // readable: an owner with nothing to read pauses); on_writable() goes on.
  virtual void pause_read() = 0;
  virtual void resume_read() = 0;
};

class Reactor {
 public:
  virtual ~Reactor() = default;
  // Starts watching `fd` for readability. Null: the loop refused it.
  virtual std::unique_ptr<FdWatch> watch(int fd, FdEvents& events) = 0;
};

}  // namespace daheim::loop
