// One connection to Redis, driven by the server's event loop: a non-blocking
// socket watched through a Reactor, commands written in RESP and pipelined
// (those of one loop turn leave together, in one write, on the next turn),
// replies parsed with hiredis's reader (redisReader) and matched to their
// callbacks in order. Never blocks. The login (AUTH, SELECT) goes out first;
// the connection is ready once Redis accepted it.
//
// A subscriber connection hands every pub/sub push (message, pmessage,
// smessage and the (un)subscribe confirmations) to the push handler instead
// of the reply queue.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cluster/redis_address.hpp"
#include "loop/fd_watch.hpp"
#include "loop/send_buffer.hpp"
#include "loop/timer.hpp"

struct redisReader;
struct redisReply;

namespace daheim::cluster {

struct RedisEndpoint {
  RedisAddress address;
  sockaddr_storage addr{};  // resolved once at start (TCP) or the unix path
  socklen_t addr_len = 0;
};

// Resolves the address into `out` (may block on DNS: call at start, before
// the loop runs). Empty on success.
std::string resolve_endpoint(const RedisAddress& address, RedisEndpoint& out);

// Appends one command in RESP (an array of bulk strings).
void append_command(std::string& out, std::span<const std::string_view> args);

class RedisConnection final : public loop::FdEvents {
 public:
  struct Limits {
    loop::Millis connect_timeout{5000};
    std::size_t max_reply_bytes = 64 * 1024 * 1024;   // one reply, as it arrives
    std::size_t max_output_bytes = 64 * 1024 * 1024;  // written but not yet taken by the kernel
  };
  // Null: the connection was lost before the reply came.
  using ReplyCallback = std::function<void(const redisReply*)>;
  using PushHandler = std::function<void(const redisReply&)>;
  struct Handlers {
    std::function<void()> ready;
    std::function<void(const std::string& why)> lost;  // after it, the connection is closed
    PushHandler push;                                  // subscriber connections only
  };

  RedisConnection(loop::Reactor& reactor, loop::TimerQueue& timers, const RedisEndpoint& endpoint,
                  Limits limits, bool subscriber, Handlers handlers);
  ~RedisConnection() override;
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Starts connecting. The outcome arrives as ready() or lost().
  void open();
  // Closes without calling lost(); pending callbacks get null. Commands
  // queued this turn are written first, as far as the kernel takes them.
  void close();
  bool ready() const { return state_ == State::Ready; }

  // Queues a command (only while ready). false: not ready, or the output
  // buffer is over its limit; the callback is not kept.
  bool command(std::span<const std::string_view> args, ReplyCallback callback);
  // A command whose answer arrives as a push (SUBSCRIBE and the like).
  bool push_command(std::span<const std::string_view> args);
  std::size_t output_bytes() const { return out_.pending(); }

  void on_readable() override;
  void on_writable() override;

 private:
  enum class State { Closed, Connecting, LoggingIn, Ready };
  void fail(const std::string& why);
  void connected();
  void login_reply(const redisReply* reply, bool last);
  void flush();
  void want_flush();
  void dispatch(redisReply* reply);
  bool is_push(const redisReply& reply) const;
  void drop_pending();
  void write_raw(std::span<const std::string_view> args);

  loop::Reactor& reactor_;
  const RedisEndpoint& endpoint_;
  Limits limits_;
  bool subscriber_;
  Handlers handlers_;
  State state_ = State::Closed;
  int fd_ = -1;
  std::unique_ptr<loop::FdWatch> watch_;
  redisReader* reader_ = nullptr;
  loop::SendBuffer out_;
  bool write_wanted_ = false;
  std::deque<ReplyCallback> pending_;
  loop::Timer connect_timer_;
  std::shared_ptr<bool> alive_;  // detects destruction from inside a callback
};

}  // namespace daheim::cluster
