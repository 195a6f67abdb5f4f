// Bytes queued for a non-blocking socket we write ourselves (Redis, another
// node's upstream connection) and how far the kernel has taken them.
// Header-only; the owner asks the loop for writability when some is left.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>

namespace daheim::loop {

class SendBuffer {
 public:
  // The buffer to append to (what was sent already is dropped first).
  std::string& tail() {
    if (pos_ > 0 && pos_ == out_.size()) clear();
    return out_;
  }
  void append(std::string_view bytes) { tail().append(bytes); }
  // Queued and not yet taken by the kernel.
  std::size_t pending() const { return out_.size() - pos_; }
  void clear() {
    out_.clear();
    pos_ = 0;
  }
  // Writes what the kernel takes: 0 once everything is written, EAGAIN when
  // some is left, another errno when the send failed.
  int send_to(int fd) {
    while (pos_ < out_.size()) {
      ssize_t n = ::send(fd, out_.data() + pos_, out_.size() - pos_, MSG_NOSIGNAL);
      if (n > 0) {
        pos_ += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EWOULDBLOCK) return EAGAIN;
      return n < 0 ? errno : EIO;
    }
    clear();
    return 0;
  }

 private:
  std::string out_;
  std::size_t pos_ = 0;
};

}  // namespace daheim::loop
