// RedisConnection's wire against a stand-in for Redis (a unix socket the test
// reads and writes itself): the commands of one loop turn leave together on
// the next turn, in order, and the replies are matched to them in that order.
#include "cluster/redis_connection.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "poll_loop.hpp"

namespace daheim::cluster {
namespace {

using testing::PollLoop;

// Listens on a unix socket in a temp dir; accepts one connection.
class FakeRedis {
 public:
  FakeRedis() {
    char tmpl[] = "/tmp/daheim-fake-redis-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/redis.sock";
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path_.data(), path_.size());
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&un), sizeof un), 0);
    EXPECT_EQ(listen(listen_fd_, 4), 0);
  }
  ~FakeRedis() {
    if (peer_ >= 0) close(peer_);
    close(listen_fd_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }
  bool accept_one() {
    peer_ = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return peer_ >= 0;
  }
  // What the connection wrote so far, without waiting.
  std::string take() {
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = recv(peer_, buf, sizeof buf, 0)) > 0;) got.append(buf, n);
    return got;
  }
  void answer(std::string_view bytes) {
    EXPECT_EQ(send(peer_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

 private:
  std::string dir_, path_;
  int listen_fd_ = -1;
  int peer_ = -1;
};

struct Fixture {
  FakeRedis redis;
  PollLoop loop;
  RedisEndpoint endpoint;
  std::unique_ptr<RedisConnection> conn;
  bool is_ready = false;
  Fixture() {
    RedisAddress address;
    EXPECT_EQ(parse_redis_url("unix://" + redis.path(), address), "");
    EXPECT_EQ(resolve_endpoint(address, endpoint), "");
    conn =
        std::make_unique<RedisConnection>(loop, loop, endpoint, RedisConnection::Limits{}, false,
                                          RedisConnection::Handlers{[this] { is_ready = true; }});
    conn->open();
    EXPECT_TRUE(loop.run_until([&] { return is_ready; }));
    EXPECT_TRUE(redis.accept_one());
  }
  // Queues a command whose reply is appended to `replies` as text.
  bool command(std::vector<std::string_view> args, std::vector<std::string>& replies) {
    return conn->command(args, [&replies](const redisReply* r) {
      if (r == nullptr)
        replies.emplace_back("(lost)");
      else if (r->type == REDIS_REPLY_INTEGER)
        replies.push_back(std::to_string(r->integer));
      else
        replies.emplace_back(r->str, r->len);
    });
  }
};

TEST(RedisConnection, TheCommandsOfOneTurnLeaveTogetherOnTheNextTurnInOrder) {
  std::vector<std::string> replies;  // outlives the connection: its close answers (lost)
  Fixture f;
  ASSERT_TRUE(f.command({"PUBLISH", "ch", "one"}, replies));
  ASSERT_TRUE(f.command({"INCR", "n"}, replies));
  ASSERT_TRUE(f.command({"GET", "k"}, replies));
  EXPECT_EQ(f.conn->output_bytes(), 75u);
  EXPECT_EQ(f.redis.take(), "");  // nothing written during the turn that queued them
  std::string wire;
  ASSERT_TRUE(f.loop.run_until([&] {
    wire += f.redis.take();
    return !wire.empty();
  }));
  EXPECT_EQ(wire,
            "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$3\r\none\r\n"
            "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
            "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  EXPECT_EQ(f.conn->output_bytes(), 0u);

  // The three replies in one read: each goes to its own command's callback.
  f.redis.answer(":2\r\n:7\r\n$3\r\nbar\r\n");
  ASSERT_TRUE(f.loop.run_until([&] { return replies.size() == 3; }));
  EXPECT_EQ(replies, (std::vector<std::string>{"2", "7", "bar"}));
}

TEST(RedisConnection, PushCommandsJoinTheSameWrite) {
  std::vector<std::string> replies;  // outlives the connection: its close answers (lost)
  Fixture f;
  std::string_view sub[] = {"SUBSCRIBE", "a"};
  ASSERT_TRUE(f.conn->push_command(sub));
  ASSERT_TRUE(f.command({"PING"}, replies));
  EXPECT_EQ(f.redis.take(), "");
  std::string wire;
  ASSERT_TRUE(f.loop.run_until([&] {
    wire += f.redis.take();
    return !wire.empty();
  }));
  EXPECT_EQ(wire, "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n");
}

TEST(RedisConnection, CloseWritesWhatTheTurnQueuedThenDropsTheCallbacks) {
  std::vector<std::string> replies;  // outlives the connection: its close answers (lost)
  Fixture f;
  ASSERT_TRUE(f.command({"DEL", "k"}, replies));
  f.conn->close();
  EXPECT_EQ(f.redis.take(), "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n");
  EXPECT_EQ(replies, std::vector<std::string>{"(lost)"});
}

}  // namespace
}  // namespace daheim::cluster
