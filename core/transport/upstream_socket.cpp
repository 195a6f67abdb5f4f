#include "transport/upstream_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>

#include "transport/socket_address.hpp"

namespace daheim::transport {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

}  // namespace

UpstreamSocket::UpstreamSocket(loop::Reactor& reactor, loop::TimerQueue& timers, Owner* owner)
    : reactor_(reactor),
      owner_(owner),
      connect_timer_(timers, [this] { fail("connect timed out"); }),
      alive_(std::make_shared<bool>(true)) {}

UpstreamSocket::~UpstreamSocket() {
  *alive_ = false;
  close();
}

bool UpstreamSocket::connect(std::string_view address, loop::Millis connect_timeout) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!parse_socket_address(address, addr, len)) return false;
  fd_ = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) {
    close();
    return false;
  }
  watch_ = reactor_.watch(fd_, *this);
  if (!watch_) {
    close();
    return false;
  }
  write_wanted_ = true;
  watch_->want_write();  // connect completion shows as writability
  connect_timer_.arm(connect_timeout);
  return true;
}

void UpstreamSocket::close() {
  connect_timer_.disarm();
  watch_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  connected_ = false;
  write_wanted_ = false;
}

void UpstreamSocket::fail(const char* why) {
  if (fd_ < 0) return;
  bool was = connected_;
  close();
  if (owner_) owner_->on_upstream_closed(why, was);
}

bool UpstreamSocket::write(std::string_view bytes, std::size_t max_buffered) {
  if (buffered() + bytes.size() > max_buffered) return false;
  out_.append(bytes);
  if (connected_) flush();
  return true;
}

void UpstreamSocket::flush() {
  int err = out_.send_to(fd_);
  if (err == 0) return;
  if (err != EAGAIN) return fail("send failed");
  if (!write_wanted_) {
    write_wanted_ = true;
    watch_->want_write();
  }
}

void UpstreamSocket::on_writable() {
  write_wanted_ = false;
  if (fd_ < 0) return;
  if (!connected_) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail("connect failed");
    connected_ = true;
    connect_timer_.disarm();
    auto alive = alive_;
    if (owner_) owner_->on_upstream_connected();
    if (!*alive || fd_ < 0) return;
  }
  flush();
}

void UpstreamSocket::on_readable() {
  if (fd_ < 0) return;
  if (!connected_) return on_writable();  // a refused connect shows as readable too
  char buf[kReadChunk];
  auto alive = alive_;
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      if (owner_) owner_->on_upstream_data(std::string_view(buf, static_cast<std::size_t>(n)));
      if (!*alive || fd_ < 0) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    return fail(n == 0 ? "closed by the peer" : "receive failed");
  }
}

}  // namespace daheim::transport
