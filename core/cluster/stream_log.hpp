// The Redis stream(s) of @socket.io/redis-streams-adapter 0.3 on this node:
// XADD on the command connection, and one reader connection of its own that
// runs `XREAD BLOCK … STREAMS <streams> <ids>` from concrete ids (never "$"
// between calls, reference/cluster.md §1.4), resuming from the last id read
// after a reconnect. Every entry, this node's own included, is handed to the
// listener of its namespace in stream order, so that every node delivers in
// the order of the offsets. Loop thread only; nothing waits for Redis.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cluster/redis_client.hpp"
#include "cluster/stream_entry.hpp"
#include "cluster/stream_window.hpp"

namespace daheim::cluster {

struct StreamLogOptions {
  std::string stream_name = "socket.io";
  std::size_t stream_count = 1;
  std::size_t max_len = 10000;      // XADD MAXLEN ~
  std::size_t read_count = 100;     // XREAD / XRANGE COUNT
  loop::Millis block{5000};         // XREAD BLOCK
  loop::Millis wait_timeout{5000};  // how long a restore waits for the reader
  // Recovery's in-memory window of each stream (enable_window()), filled
  // from the stream's newest entries when the reader starts.
  StreamWindowOptions window;
};

class StreamListener {
 public:
  virtual ~StreamListener() = default;
  virtual void on_stream_entry(const StreamEntry& entry) = 0;
};

struct StreamLogStats {
  uint64_t added = 0;          // XADD answered with an id
  uint64_t add_failed = 0;     // XADD not sent or refused
  uint64_t read = 0;           // entries read back
  uint64_t reader_errors = 0;  // XREAD error replies and lost connections
};

class StreamLog {
 public:
  StreamLog(loop::Reactor& reactor, loop::TimerQueue& timers, RedisClient& redis,
            const RedisClientOptions& redis_options, StreamLogOptions options);
  ~StreamLog();
  StreamLog(const StreamLog&) = delete;
  StreamLog& operator=(const StreamLog&) = delete;

  const StreamLogOptions& options() const { return options_; }
  // The stream of namespace `nsp`; it is read from now on (before start()).
  std::string stream_of(std::string_view nsp) const;
  void listen(const std::string& nsp, StreamListener* listener);
  void unlisten(const std::string& nsp);

  // Keeps a StreamWindow of every stream read (before start(); a no-op with
  // window.max_entries 0).
  void enable_window();
  // The events the window has for a session (StreamWindow::missed), through
  // the reader's cursor; nullopt when there is no window, the reader has not
  // filled it yet, or `from` is not in it.
  std::optional<std::vector<socketio::EncodedPacket>> window_missed(
      const std::string& stream, std::string_view nsp, StreamId from,
      const std::vector<std::string>& rooms) const;
  // Entries and approximate bytes in the windows.
  std::size_t window_entries() const;
  std::size_t window_bytes() const;

  void start();
  void stop();
  bool reading() const { return resolved_ && reader_->ready(); }

  // XADD to `stream` (MAXLEN ~ max_len) with `fields` (name, value, ...);
  // `done` gets the entry id, or "" when Redis did not take it.
  using Added = std::function<void(std::string_view id)>;
  void add(const std::string& stream, std::span<const std::string_view> fields, Added done);

  // The last id read from `stream` ("0-0" before the first entry).
  StreamId cursor(const std::string& stream) const;
  // Calls `ready(true)` once the reader has started (its cursors and
  // windows resolved) and read `stream` through `id`, `ready(false)` after
  // wait_timeout.
  void when_read(const std::string& stream, StreamId id, std::function<void(bool)> ready);
  // The entries of `stream` after `from` through the reader's cursor (the
  // rest reaches the listeners), at most `max` of them. `done(entries, ok)`:
  // ok false when Redis failed or there were more than `max`.
  using Range = std::function<void(std::vector<StreamEntry> entries, bool ok)>;
  void range_to_cursor(const std::string& stream, StreamId from, std::size_t max, Range done);
  // Entries in [id, id]: whether `id` is still in the stream.
  void exists(const std::string& stream, StreamId id,
              std::function<void(bool found, bool ok)> done);

  const StreamLogStats& stats() const { return stats_; }

 private:
  struct Waiter {
    std::string stream;
    StreamId id;
    std::function<void(bool)> ready;
    std::unique_ptr<loop::Timer> timer;
  };
  void on_reader_ready();
  void on_reader_lost(const std::string& why);
  void resolve_cursors();
  void backfill(std::shared_ptr<struct Backfill> b, std::shared_ptr<std::size_t> left);
  void backfilled(const struct Backfill& b, bool whole);
  void read_next();
  void on_read(const redisReply* reply);
  void dispatch(const StreamEntry& entry);
  void wake_waiters();
  void range_step(std::shared_ptr<struct RangeState> state);

  loop::TimerQueue& timers_;
  RedisClient& redis_;
  StreamLogOptions options_;
  RedisClientOptions redis_options_;
  std::unique_ptr<RedisConnection> reader_;
  loop::Timer retry_;
  unsigned attempt_ = 0;
  bool running_ = false;
  bool resolved_ = false;
  std::map<std::string, StreamId> cursors_;  // every stream read
  std::unordered_map<std::string, StreamListener*> listeners_;
  bool windowed_ = false;
  std::map<std::string, StreamWindow> windows_;  // by stream, when windowed_
  std::vector<std::unique_ptr<Waiter>> waiters_;
  StreamLogStats stats_;
  std::minstd_rand rng_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Reads one entry ([id, [field, value, ...]]) of an XREAD / XRANGE reply.
bool read_stream_entry(const redisReply& r, StreamEntry& out);

}  // namespace daheim::cluster
