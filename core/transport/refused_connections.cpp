#include "transport/refused_connections.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace daheim::transport {

class RefusedConnections::Refused final : public loop::FdEvents {
 public:
  Refused(RefusedConnections& owner, int fd, std::size_t budget)
      : owner_(owner),
        fd_(fd),
        deadline_(owner.timers_, [this] { owner_.drop(this); }),
        budget_(budget) {}
  ~Refused() override {
    watch_.reset();
    ::close(fd_);
  }
  Refused(const Refused&) = delete;
  Refused& operator=(const Refused&) = delete;

  bool start() {
    watch_ = owner_.reactor_.watch(fd_, *this);
    if (!watch_) return false;
    deadline_.arm(owner_.limits_.linger);
    return true;
  }
  // Reads and drops what the client sent; done at its end-of-file, an error,
  // or past the byte budget.
  void on_readable() override {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return owner_.drop(this);
      read_ += static_cast<std::size_t>(n);
      if (read_ > budget_) return owner_.drop(this);
    }
  }
  void on_writable() override {}

 private:
  RefusedConnections& owner_;
  int fd_;
  std::unique_ptr<loop::FdWatch> watch_;
  loop::Timer deadline_;
  std::size_t budget_;
  std::size_t read_ = 0;
};

RefusedConnections::RefusedConnections(loop::Reactor& reactor, loop::TimerQueue& timers,
                                       RefusalLimits limits)
    : reactor_(reactor), timers_(timers), limits_(limits) {}

RefusedConnections::~RefusedConnections() {
  clear();
}

void RefusedConnections::clear() {
  open_.clear();
}

bool RefusedConnections::refuse(int fd, std::string_view answer, std::size_t read_budget) {
  if (!answer.empty()) {
    [[maybe_unused]] ssize_t n =
        send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  if (limits_.max_sockets == 0) return false;
  if (open_.size() >= limits_.max_sockets) open_.pop_front();
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return false;  // no descriptor to spare: closed at once, as before
  shutdown(copy, SHUT_WR);
  auto r = std::make_unique<Refused>(*this, copy, std::max(read_budget, limits_.max_read_bytes));
  if (!r->start()) return false;
  open_.push_back(std::move(r));
  return true;
}

void RefusedConnections::drop(Refused* r) {
  // From r's own callback: it is destroyed last thing, nothing of it runs after.
  open_.remove_if([r](const std::unique_ptr<Refused>& p) { return p.get() == r; });
}

}  // namespace daheim::transport
