// LwsReactor on a real libwebsockets context (lws's own poll() loop, no
// listener): a descriptor's owner that asks for writability again from
// inside on_writable(), because send() hit EAGAIN there, gets another
// on_writable() once the peer has read (lws 4.1 clears a raw file's POLLOUT
// after that callback; a Redis connection stalled on it).
#include "transport/lws_reactor.hpp"

#include <gtest/gtest.h>
#include <libwebsockets.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

namespace daheim::transport {
namespace {

using Clock = std::chrono::steady_clock;

// Writes `total` bytes to its descriptor, as much as each on_writable() can.
class Writer final : public loop::FdEvents {
 public:
  Writer(int fd, std::size_t total) : fd_(fd), left_(total) {}
  void start(loop::Reactor& reactor) {
    watch_ = reactor.watch(fd_, *this);
    watch_->want_write();
  }
  void on_readable() override {}
  void on_writable() override {
    ++calls;
    std::string chunk(64 * 1024, 'x');
    while (left_ > 0) {
      ssize_t n = ::send(fd_, chunk.data(), std::min(left_, chunk.size()), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN) watch_->want_write();  // inside on_writable()
        return;
      }
      left_ -= static_cast<std::size_t>(n);
    }
  }
  std::size_t left() const { return left_; }
  int calls = 0;

 private:
  int fd_;
  std::size_t left_;
  std::unique_ptr<loop::FdWatch> watch_;
};

int fd_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  return LwsReactor::callback(wsi, reason, user, in, len);
}

lws_protocols g_protocols[] = {
    {"default", lws_callback_http_dummy, 0, 0, 0, nullptr, 0},
    {LwsReactor::kProtocol, fd_callback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

class LwsReactorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lws_set_log_level(LLL_ERR, nullptr);
    lws_context_creation_info info;
    std::memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = g_protocols;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    context_ = lws_create_context(&info);
    ASSERT_NE(context_, nullptr);
    vhost_ = lws_create_vhost(context_, &info);
    ASSERT_NE(vhost_, nullptr);
    reactor_.attach(vhost_);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds_), 0);
  }
  void TearDown() override {
    lws_context_destroy(context_);
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  // Services lws (never blocking for long) and reads the peer's end, until
  // `done` or two seconds have passed.
  bool serve_and_read_until(const std::function<bool()>& done) {
    char buf[64 * 1024];
    auto give_up = Clock::now() + std::chrono::seconds(2);
    while (!done() && Clock::now() < give_up) {
      lws_service(context_, 10);
      while (::recv(fds_[1], buf, sizeof buf, MSG_DONTWAIT) > 0) read_ += 1;
    }
    return done();
  }

  lws_context* context_ = nullptr;
  lws_vhost* vhost_ = nullptr;
  LwsReactor reactor_;
  int fds_[2] = {-1, -1};
  int read_ = 0;
};

TEST_F(LwsReactorTest, AWriteRequestFromInsideOnWritableIsKept) {
  // Far more than the socket pair buffers: several rounds of EAGAIN.
  constexpr std::size_t kTotal = std::size_t(8) << 20;
  Writer writer(fds_[0], kTotal);
  writer.start(reactor_);
  ASSERT_TRUE(serve_and_read_until([&] { return writer.left() == 0; }))
      << (kTotal - writer.left()) << " of " << kTotal << " bytes written in " << writer.calls
      << " on_writable() calls";
  EXPECT_GT(writer.calls, 1);
}

}  // namespace
}  // namespace daheim::transport
