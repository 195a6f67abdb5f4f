// A client TCP connection from this node to another node's internal
// listener, on the loop (loop::Reactor): non-blocking connect, a bounded
// output buffer, and whatever arrives handed to the owner. Used by the
// forwarded polling requests (HttpForward) and the carried WebSockets
// (WsUpstream). Loop thread only.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "loop/fd_watch.hpp"
#include "loop/send_buffer.hpp"
#include "loop/timer.hpp"

namespace daheim::transport {

class UpstreamSocket final : public loop::FdEvents {
 public:
  // Who the socket reports to; it may change hands (a connection pool), and
  // the owner may destroy the socket inside any of these.
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void on_upstream_connected() {}
    virtual void on_upstream_data(std::string_view data) = 0;
    // Connection failed, closed or timed out (`why` for logs). `connected`:
    // it was connected before.
    virtual void on_upstream_closed(const char* why, bool connected) = 0;
  };
  UpstreamSocket(loop::Reactor& reactor, loop::TimerQueue& timers, Owner* owner);
  void set_owner(Owner* owner) { owner_ = owner; }
  ~UpstreamSocket() override;
  UpstreamSocket(const UpstreamSocket&) = delete;
  UpstreamSocket& operator=(const UpstreamSocket&) = delete;

  // Starts connecting; the handlers report the outcome. false: could not
  // even start (bad address, no socket), `closed` is not called.
  bool connect(std::string_view address, loop::Millis connect_timeout);
  // Queues bytes (sent once connected). false: over `max_buffered` queued.
  bool write(std::string_view bytes, std::size_t max_buffered);
  std::size_t buffered() const { return out_.pending(); }
  bool is_connected() const { return connected_; }
  void close();

  void on_readable() override;
  void on_writable() override;

 private:
  void flush();
  void fail(const char* why);

  loop::Reactor& reactor_;
  Owner* owner_;
  int fd_ = -1;
  bool connected_ = false;
  bool write_wanted_ = false;
  std::unique_ptr<loop::FdWatch> watch_;
  loop::Timer connect_timer_;
  loop::SendBuffer out_;
  std::shared_ptr<bool> alive_;
};

}  // namespace daheim::transport
