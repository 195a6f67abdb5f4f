// The graceful close of a connection refused at accept: the answer, then the
// write side shut, the socket kept until the client closed, a deadline
// (engineio.refusalLingerTime) or a byte budget (engineio.refusalReadBytes),
// at most engineio.refusalMaxSockets at once.
#include "transport/refused_connections.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "fake_timer_queue.hpp"

namespace daheim::transport {
namespace {

using loop::Millis;

// Hands the test the callbacks of the one descriptor watched.
class ManualReactor final : public loop::Reactor {
 public:
  struct Watch final : loop::FdWatch {
    explicit Watch(ManualReactor& r) : reactor(r) {}
    ~Watch() override { reactor.events = nullptr; }
    void want_write() override {}
    void pause_read() override {}
    void resume_read() override {}
    ManualReactor& reactor;
  };
  std::unique_ptr<loop::FdWatch> watch(int, loop::FdEvents& e) override {
    events = &e;
    return std::make_unique<Watch>(*this);
  }
  loop::FdEvents* events = nullptr;
};

constexpr std::string_view kAnswer = "HTTP/1.1 429 Too Many Requests\r\n\r\n";

class RefusedConnectionsTest : public ::testing::Test {
 protected:
  // A refused connection: `client_` is the client's end.
  void refuse(RefusedConnections& refused, std::size_t read_budget = 0) {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    client_ = fds[1];
    refused.refuse(fds[0], kAnswer, read_budget);
    ::close(fds[0]);  // the caller closes its descriptor, as lws does
  }
  // What the client reads until end-of-file; "<open>" when none came yet.
  std::string client_reads() {
    std::string got;
    char buf[256];
    for (;;) {
      ssize_t n = ::recv(client_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        got.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) return got;
      return got + (errno == EAGAIN ? "<open>" : "<error>");
    }
  }
  void client_sends(std::size_t bytes) {
    std::string data(bytes, 'x');
    ASSERT_EQ(::send(client_, data.data(), data.size(), 0), static_cast<ssize_t>(bytes));
  }
  void TearDown() override {
    if (client_ >= 0) ::close(client_);
  }

  testing::FakeTimerQueue timers_;
  ManualReactor reactor_;
  int client_ = -1;
};

TEST_F(RefusedConnectionsTest, TheClientReadsTheAnswerThenEndOfFileAndTheSocketGoesAtTheDeadline) {
  RefusedConnections refused(reactor_, timers_, {Millis(250), 65536});
  refuse(refused);
  EXPECT_EQ(client_reads(), std::string(kAnswer));  // then end-of-file: the write side is shut
  EXPECT_EQ(refused.lingering(), 1u);
  timers_.advance(Millis(249));
  EXPECT_EQ(refused.lingering(), 1u);
  timers_.advance(Millis(1));
  EXPECT_EQ(refused.lingering(), 0u);
  EXPECT_EQ(reactor_.events, nullptr);  // no longer watched
  char c;
  EXPECT_EQ(::recv(client_, &c, 1, MSG_DONTWAIT), 0);
}

TEST_F(RefusedConnectionsTest, WhatTheClientSendsIsDroppedUpToTheReadBudget) {
  RefusedConnections refused(reactor_, timers_, {Millis(2000), 1000});
  refuse(refused);
  ASSERT_NE(reactor_.events, nullptr);
  client_sends(1000);
  reactor_.events->on_readable();
  EXPECT_EQ(refused.lingering(), 1u);  // exactly the budget: still kept
  client_sends(1);
  reactor_.events->on_readable();
  EXPECT_EQ(refused.lingering(), 0u);  // past it: closed before the deadline
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(RefusedConnectionsTest, ACallersLargerBudgetReadsTheRestOfARefusedRequest) {
  RefusedConnections refused(reactor_, timers_, {Millis(2000), 1000});
  refuse(refused, 3000);
  client_sends(3000);
  reactor_.events->on_readable();
  EXPECT_EQ(refused.lingering(), 1u);  // the caller's budget, not the limits'
  client_sends(1);
  reactor_.events->on_readable();
  EXPECT_EQ(refused.lingering(), 0u);
}

TEST_F(RefusedConnectionsTest, TheClientClosingEndsItAtOnce) {
  RefusedConnections refused(reactor_, timers_, {Millis(2000), 65536});
  refuse(refused);
  client_sends(10);
  ::shutdown(client_, SHUT_WR);
  reactor_.events->on_readable();
  EXPECT_EQ(refused.lingering(), 0u);
}

// Whether the server still holds the connection: a byte the client sends is
// taken while it does (and read and dropped), refused (EPIPE) once it closed.
bool kept(int client) {
  return ::send(client, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1;
}

// A client that keeps many refused connections open holds no more than
// max_sockets: the one kept longest is closed for the newest.
TEST_F(RefusedConnectionsTest, PastMaxSocketsTheOldestIsClosedFirst) {
  RefusedConnections refused(reactor_, timers_, {Millis(2000), 65536, 2});
  int clients[3];
  for (int& client : clients) {
    refuse(refused);
    client = std::exchange(client_, -1);
  }
  EXPECT_EQ(refused.lingering(), 2u);
  EXPECT_FALSE(kept(clients[0]));
  EXPECT_EQ(errno, EPIPE);
  EXPECT_TRUE(kept(clients[1]));
  EXPECT_TRUE(kept(clients[2]));
  for (int client : clients) ::close(client);
}

TEST_F(RefusedConnectionsTest, MaxSocketsZeroKeepsNone) {
  RefusedConnections refused(reactor_, timers_, {Millis(2000), 65536, 0});
  refuse(refused);
  EXPECT_EQ(refused.lingering(), 0u);
  EXPECT_EQ(reactor_.events, nullptr);              // never watched
  EXPECT_EQ(client_reads(), std::string(kAnswer));  // the answer, then end-of-file
  EXPECT_FALSE(kept(client_));
}

}  // namespace
}  // namespace daheim::transport
