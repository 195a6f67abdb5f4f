// The uv_poll_start() of core/transport/uv_poll_rearm.cpp against a real libuv
// loop and a socket pair. What the kernel has registered is read from
// /proc/self/fdinfo of the loop's epoll descriptor: libuv's own uv_poll_start
// removes the descriptor at once (EPOLL_CTL_DEL) and adds it at the next poll,
// so "registered right after the call, with the new events" is the in-place
// path, and "absent until the loop runs" is libuv's.
#include "transport/uv_poll_rearm.hpp"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace daheim::transport {
namespace {

// The events the kernel has registered for `fd` in epoll instance `epfd`
// (without EPOLLERR and EPOLLHUP, which it always adds).
std::optional<unsigned> registered(int epfd, int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(epfd));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, events_key;
    int tfd = -1;
    unsigned events = 0;
    if (!(words >> key >> tfd >> events_key >> std::hex >> events) || key != "tfd:") continue;
    if (tfd == fd) return events & ~unsigned(EPOLLERR | EPOLLHUP);
  }
  return std::nullopt;
}

class UvPollRearm : public ::testing::Test {
 protected:
  void SetUp() override {
    unsigned v = uv_version();
    if ((v >> 16) != 1 || ((v >> 8) & 0xff) != 44)
      GTEST_SKIP() << "written against libuv 1.44, this is " << uv_version_string();
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds_), 0);
    ASSERT_EQ(uv_poll_init(&loop_, &handle_, fds_[0]), 0);
    handle_.data = this;
  }

  void TearDown() override {
    if (fds_[0] < 0) return;
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    close(fds_[0]);
    close(fds_[1]);
  }

  static void on_events(uv_poll_t* h, int status, int events) {
    auto* self = static_cast<UvPollRearm*>(h->data);
    self->status_ = status;
    self->seen_ |= events;
  }

  static void on_events_other(uv_poll_t* h, int status, int events) {
    static_cast<UvPollRearm*>(h->data)->other_seen_ |= events;
    on_events(h, status, events);
  }

  int start(int events, uv_poll_cb cb = on_events) { return uv_poll_start(&handle_, events, cb); }

  // One turn of the loop that does not wait; the events it delivered.
  int turn() {
    seen_ = 0;
    uv_run(&loop_, UV_RUN_NOWAIT);
    return seen_;
  }

  std::optional<unsigned> kernel() const { return registered(uv_backend_fd(&loop_), fds_[0]); }

  uv_loop_t loop_{};
  uv_poll_t handle_{};
  int fds_[2] = {-1, -1};
  int status_ = 0;
  int seen_ = 0;
  int other_seen_ = 0;
};

TEST_F(UvPollRearm, IsOnWithThisLibuv) {
  EXPECT_TRUE(uv_rearm::active());
}

TEST_F(UvPollRearm, FirstStartIsLibuvs) {
  ASSERT_EQ(start(UV_READABLE), 0);
  EXPECT_EQ(kernel(), std::nullopt);  // libuv adds it at its next poll
  EXPECT_FALSE(uv_rearm::armed_with(&handle_, UV_READABLE));
  EXPECT_EQ(turn(), 0);
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN));
  EXPECT_TRUE(uv_rearm::armed_with(&handle_, UV_READABLE));
}

TEST_F(UvPollRearm, SameEventsAgainChangeNothing) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  ASSERT_EQ(start(UV_READABLE), 0);
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN));  // never removed
  EXPECT_TRUE(uv_rearm::armed_with(&handle_, UV_READABLE));
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  EXPECT_EQ(turn(), UV_READABLE);
  EXPECT_EQ(status_, 0);
}

TEST_F(UvPollRearm, WritableOnAndOffInPlace) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  ASSERT_EQ(start(UV_READABLE | UV_WRITABLE), 0);
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN | EPOLLOUT));
  EXPECT_TRUE(uv_rearm::armed_with(&handle_, UV_READABLE | UV_WRITABLE));
  EXPECT_EQ(turn(), UV_WRITABLE);  // nothing to read, room to write
  ASSERT_EQ(start(UV_READABLE), 0);
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN));
  EXPECT_EQ(turn(), 0);  // still writable, no longer watched
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  EXPECT_EQ(turn(), UV_READABLE);
}

TEST_F(UvPollRearm, WritableOnlyThenReadableOnly) {
  ASSERT_EQ(start(UV_WRITABLE), 0);
  turn();
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  EXPECT_EQ(turn(), UV_WRITABLE);  // readable too, but not watched
  ASSERT_EQ(start(UV_READABLE), 0);
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN));
  EXPECT_EQ(turn(), UV_READABLE);
}

TEST_F(UvPollRearm, StoppedHandleIsStartedByLibuv) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  ASSERT_EQ(uv_poll_stop(&handle_), 0);
  EXPECT_EQ(kernel(), std::nullopt);
  ASSERT_EQ(start(UV_READABLE | UV_WRITABLE), 0);
  EXPECT_EQ(kernel(), std::nullopt);
  EXPECT_EQ(turn(), UV_WRITABLE);
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN | EPOLLOUT));
}

// Started and not yet added: libuv's next poll adds it with the new events.
TEST_F(UvPollRearm, NotYetAddedIsAddedWithTheNewEvents) {
  ASSERT_EQ(start(UV_READABLE), 0);
  ASSERT_EQ(start(UV_WRITABLE), 0);
  EXPECT_EQ(kernel(), std::nullopt);
  EXPECT_EQ(turn(), UV_WRITABLE);
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLOUT));
}

// A held GET's connection: reading stopped, started again in the turn its
// answer is written, then the POLLOUT after the transaction, known.
TEST_F(UvPollRearm, KnownWritableOnAHandleNotYetAdded) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  ASSERT_EQ(uv_poll_stop(&handle_), 0);
  ASSERT_EQ(start(UV_READABLE), 0);
  {
    uv_rearm::KnownWritable known(fds_[0]);
    ASSERT_EQ(start(UV_READABLE | UV_WRITABLE), 0);
  }
  uv_rearm::deliver_writable();
  EXPECT_EQ(seen_, UV_WRITABLE);
  EXPECT_EQ(turn(), 0);  // added readable only: libuv's own would watch writable too
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN));
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  EXPECT_EQ(turn(), UV_READABLE);
}

TEST_F(UvPollRearm, OtherEventBitsAreLibuvs) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  ASSERT_EQ(start(UV_READABLE | UV_DISCONNECT), 0);
  EXPECT_EQ(kernel(), std::nullopt);  // libuv removed it, as before
  turn();
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN | EPOLLRDHUP));
  EXPECT_FALSE(uv_rearm::armed_with(&handle_, UV_READABLE));
  // Back to readable only from there: libuv's again (a bit it does not own).
  ASSERT_EQ(start(UV_READABLE), 0);
  EXPECT_EQ(kernel(), std::nullopt);
  turn();
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN));
}

TEST_F(UvPollRearm, AnotherCallbackIsLibuvs) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  ASSERT_EQ(start(UV_READABLE | UV_WRITABLE, on_events_other), 0);
  EXPECT_EQ(kernel(), std::nullopt);
  EXPECT_EQ(turn(), UV_WRITABLE);
  EXPECT_EQ(other_seen_, UV_WRITABLE);
}

TEST_F(UvPollRearm, NoEventsStopsAsLibuvDoes) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  ASSERT_EQ(start(0), 0);
  EXPECT_EQ(kernel(), std::nullopt);
  EXPECT_FALSE(uv_is_active(reinterpret_cast<uv_handle_t*>(&handle_)));
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  EXPECT_EQ(turn(), 0);
}

// A change in place while the loop delivers the same turn's events: an event
// no longer watched is not delivered (libuv masks each with what is watched).
TEST_F(UvPollRearm, EventDroppedInTheSameTurnIsNotDelivered) {
  uv_poll_t second{};
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
  ASSERT_EQ(uv_poll_init(&loop_, &second, pair[0]), 0);
  struct Ctx {
    uv_poll_t* handles[2];
    int delivered = 0;
  } ctx{{&handle_, &second}};
  handle_.data = second.data = &ctx;
  // Whichever is delivered first drops the other's WRITABLE, in place.
  auto cb = [](uv_poll_t* h, int, int events) {
    auto* c = static_cast<Ctx*>(h->data);
    EXPECT_EQ(events, UV_WRITABLE);
    if (c->delivered++ == 0)
      uv_poll_start(c->handles[h == c->handles[0] ? 1 : 0], UV_READABLE, h->poll_cb);
  };
  ASSERT_EQ(uv_poll_start(&handle_, UV_WRITABLE, cb), 0);
  ASSERT_EQ(uv_poll_start(&second, UV_WRITABLE, cb), 0);
  // libuv adds both, and the one epoll_wait reports both writable.
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(ctx.delivered, 1);
  unsigned both = registered(uv_backend_fd(&loop_), fds_[0]).value_or(0) |
                  registered(uv_backend_fd(&loop_), pair[0]).value_or(0);
  EXPECT_EQ(both, unsigned(EPOLLIN | EPOLLOUT));  // one still writable, the other readable
  uv_close(reinterpret_cast<uv_handle_t*>(&second), nullptr);
  uv_poll_stop(&handle_);
  uv_run(&loop_, UV_RUN_NOWAIT);  // closes `second`
  close(pair[0]);
  close(pair[1]);
}

// lws_http_transaction_completed()'s request for writable, with the socket
// known to be writable: no epoll change, and the event comes at the end of
// the turn (deliver_writable), once.
TEST_F(UvPollRearm, KnownWritableIsDeliveredWithoutEpoll) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  {
    uv_rearm::KnownWritable known(fds_[0]);
    ASSERT_EQ(start(UV_READABLE | UV_WRITABLE), 0);
  }
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN));  // never asked of the kernel
  EXPECT_EQ(seen_, 0);                                    // not from inside the call
  uv_rearm::deliver_writable();
  EXPECT_EQ(seen_, UV_WRITABLE);
  EXPECT_EQ(status_, 0);
  seen_ = 0;
  uv_rearm::deliver_writable();
  EXPECT_EQ(seen_, 0);  // once
  // lws then drops writable: already so, nothing changes.
  ASSERT_EQ(start(UV_READABLE), 0);
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN));
  EXPECT_EQ(turn(), 0);
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  EXPECT_EQ(turn(), UV_READABLE);
}

// Only the first request for writable on that descriptor, only in scope.
TEST_F(UvPollRearm, KnownWritableIsOneRequestOnOneDescriptor) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  {
    uv_rearm::KnownWritable known(fds_[1]);  // another descriptor
    ASSERT_EQ(start(UV_READABLE | UV_WRITABLE), 0);
  }
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN | EPOLLOUT));  // one MOD, as without it
  ASSERT_EQ(start(UV_READABLE), 0);
  { uv_rearm::KnownWritable known(fds_[0]); }
  ASSERT_EQ(start(UV_READABLE | UV_WRITABLE), 0);  // out of scope
  EXPECT_EQ(kernel(), std::optional<unsigned>(EPOLLIN | EPOLLOUT));
  uv_rearm::deliver_writable();
  EXPECT_EQ(seen_, 0);
  EXPECT_EQ(turn(), UV_WRITABLE);  // from epoll
}

TEST_F(UvPollRearm, KnownWritableOfAStoppedOrClosedHandleIsDropped) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  {
    uv_rearm::KnownWritable known(fds_[0]);
    ASSERT_EQ(start(UV_READABLE | UV_WRITABLE), 0);
  }
  ASSERT_EQ(uv_poll_stop(&handle_), 0);
  uv_rearm::deliver_writable();
  EXPECT_EQ(seen_, 0);
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  {
    uv_rearm::KnownWritable known(fds_[0]);
    ASSERT_EQ(start(UV_READABLE | UV_WRITABLE), 0);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), nullptr);
  uv_rearm::deliver_writable();
  EXPECT_EQ(seen_, 0);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  close(fds_[0]);
  close(fds_[1]);
  fds_[0] = -1;  // TearDown: done
}

// A loop about to be closed: nothing is delivered to its handles any more.
TEST_F(UvPollRearm, ForgetDropsALoopsPendingWritable) {
  ASSERT_EQ(start(UV_READABLE), 0);
  turn();
  {
    uv_rearm::KnownWritable known(fds_[0]);
    ASSERT_EQ(start(UV_READABLE | UV_WRITABLE), 0);
  }
  uv_rearm::forget(&loop_);
  uv_rearm::deliver_writable();
  EXPECT_EQ(seen_, 0);
}

}  // namespace
}  // namespace daheim::transport
