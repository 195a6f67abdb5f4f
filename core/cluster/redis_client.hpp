// The node's two Redis connections: one for commands and publishing, one in
// subscribed state. Each reconnects on its own with capped exponential
// backoff and jitter; the subscriber subscribes again to everything wanted.
// While the command connection is down, publishes wait in a bounded buffer;
// what does not fit is counted and dropped. Loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "cluster/redis_connection.hpp"

namespace daheim::cluster {

struct RedisClientOptions {
  RedisEndpoint endpoint;
  RedisConnection::Limits limits;
  loop::Millis reconnect_min{100};
  loop::Millis reconnect_max{10000};
  std::size_t publish_buffer_bytes = 1024 * 1024;
};

struct RedisClientStats {
  uint64_t published = 0;        // PUBLISH / SPUBLISH written to Redis
  uint64_t publish_dropped = 0;  // did not fit the buffer while disconnected
  uint64_t received = 0;         // pub/sub messages delivered to the handler
  uint64_t reconnects = 0;       // connection attempts after a loss
};

class RedisClient {
 public:
  enum class Kind { Channel, Pattern, Shard };
  using MessageHandler = std::function<void(Kind kind, std::string_view channel,
                                            std::string_view pattern, std::string_view payload)>;
  using StateHandler = std::function<void(bool connected)>;

  RedisClient(loop::Reactor& reactor, loop::TimerQueue& timers, RedisClientOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  void set_message_handler(MessageHandler h) { on_message_ = std::move(h); }
  void set_state_handler(StateHandler h) { on_state_ = std::move(h); }

  void start();
  void stop();
  // Both connections ready.
  bool connected() const { return cmd_link_.conn->ready() && sub_link_.conn->ready(); }
  const RedisEndpoint& endpoint() const { return options_.endpoint; }

  // Whether Redis takes a PUBLISH: true, or false when it refused it or the
  // connection was lost first.
  using Published = std::function<void(bool taken)>;
  // PUBLISH (or SPUBLISH with `sharded`), buffered while disconnected;
  // `published` (optional) gets Redis's answer (false at once when dropped).
  void publish(std::string_view channel, std::string_view payload, bool sharded = false,
               Published published = nullptr);
  // The command connection is up: a publish now is written to Redis.
  bool can_publish() const { return cmd_link_.conn->ready(); }
  // Any other command on the command connection. false: not connected (the
  // callback is not kept).
  bool command(std::span<const std::string_view> args, RedisConnection::ReplyCallback callback);

  void subscribe(Kind kind, std::string_view channel);
  void unsubscribe(Kind kind, std::string_view channel);
  std::size_t subscriptions() const;

  const RedisClientStats& stats() const { return stats_; }
  std::size_t buffered_publishes() const { return buffered_.size(); }
  static constexpr std::size_t kKinds = 3;

 private:
  struct Publish {
    std::string channel;
    std::string payload;
    bool sharded;
    Published published;
  };
  struct Link {
    std::unique_ptr<RedisConnection> conn;
    loop::Timer retry;
    unsigned attempt = 0;
    bool was_up = false;
    Link(loop::TimerQueue& timers, std::function<void()> fire) : retry(timers, std::move(fire)) {}
  };
  void on_cmd_ready();
  void on_sub_ready();
  void on_lost(Link& link, const char* which, const std::string& why);
  void schedule_retry(Link& link);
  void on_push(const redisReply& reply);
  void send_subscription(Kind kind, std::string_view channel, bool on);
  void flush_buffered();
  void write_publish(std::string_view channel, std::string_view payload, bool sharded,
                     Published published);
  void notify_state();

  RedisClientOptions options_;
  bool running_ = false;
  bool last_state_ = false;
  Link cmd_link_;
  Link sub_link_;
  std::set<std::string, std::less<>> wanted_[kKinds];
  std::deque<Publish> buffered_;
  std::size_t buffered_bytes_ = 0;
  MessageHandler on_message_;
  StateHandler on_state_;
  RedisClientStats stats_;
  std::minstd_rand rng_;
};

}  // namespace daheim::cluster
