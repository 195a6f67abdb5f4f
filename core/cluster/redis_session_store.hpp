// Connection-state recovery with its log in the Redis stream and its
// sessions under `<prefix><pid>` (@socket.io/redis-streams-adapter's
// persistSession / restoreSession, reference/cluster.md §1.8), so that any
// node, a Node.js one included, restores any session. Unlike the reference:
// - a session is read with GET, not GETDEL: a restore that fails (offset
//   gone, token refused, client gone) leaves it for the next attempt;
// - a connected socket's session is kept too (save_live), with a TTL that is
//   refreshed, so that a node's death (SIGKILL) loses nothing;
// - missed events are read up to the stream reader's cursor, and the reader
//   delivers the rest, on the one loop: none is missed or sent twice;
// - they come from the reader's in-memory window of the stream (StreamWindow)
//   when the offset is in it, so that a restore costs its own events; only
//   an older offset reads the stream (XRANGE) from Redis;
// - each session has one writer: `<prefix><pid>#holder` names the socket
//   (this store's instance and a counter) whose writes count. A socket that
//   restores the session takes it over; a write or delete by another holder
//   (a node that has not noticed yet that its client's transport died) is
//   refused by the script, so it cannot put the old state back. Node.js
//   nodes ignore the key.
// Events are logged by the StreamsAdapter (every broadcast is an XADD).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cluster/redis_client.hpp"
#include "cluster/stream_log.hpp"
#include "socketio/options.hpp"
#include "socketio/session_store.hpp"

namespace daheim::cluster {

struct RedisSessionStats {
  uint64_t saved = 0;           // SETs of sessions (live and at disconnect)
  uint64_t restored = 0;        // restores answered with a session
  uint64_t restore_failed = 0;  // unknown session, offset gone, Redis failed
  uint64_t stale_refused = 0;   // writes refused: another socket holds the session
  uint64_t window_hits = 0;     // missed events taken from the window
  uint64_t window_misses = 0;   // offset not in the window: read from Redis
};

class RedisSessionStore final : public socketio::SessionStore {
 public:
  RedisSessionStore(StreamLog& log, RedisClient& redis, loop::TimerQueue& timers,
                    const socketio::RecoveryOptions& options, std::string key_prefix);
  ~RedisSessionStore() override;

  void append(const socketio::LoggedEvent& event, Deliver deliver) override;
  std::string head(std::string_view nsp) const override;
  void save(socketio::SavedSession session) override;
  bool keeps_live_sessions() const override { return true; }
  void save_live(socketio::SavedSession session) override;
  void restore(std::string_view nsp, std::string_view pid, std::string_view offset,
               RestoreCallback callback) override;
  void forget(std::string_view pid) override;
  void restored(std::string_view pid) override;
  // Writes not yet answered by Redis (a stopping node waits for them).
  std::size_t pending_writes() const { return pending_writes_; }

  const RedisSessionStats& stats() const { return stats_; }

 private:
  struct Restore;
  // A connected socket's session as this store writes it.
  struct Live {
    loop::TimePoint at;  // last write
    std::string holder;  // "<instance>:<n>"
    bool claim = false;  // the next write takes the session over (restored)
  };
  void write(std::vector<std::string> args);
  // SET of the session (and its holder) unless another holder has it.
  void write_session(const socketio::SavedSession& session, Live live, loop::Millis ttl);
  Live& live(const std::string& pid);
  void refresh();
  void later(std::function<void()> fn);
  void on_session(std::shared_ptr<Restore> r, const redisReply* reply);
  void read_missed(std::shared_ptr<Restore> r);
  void read_missed_from_redis(std::shared_ptr<Restore> r);
  void answer(const std::shared_ptr<Restore>& r, std::vector<socketio::EncodedPacket> missed);
  void fail(const std::shared_ptr<Restore>& r);

  StreamLog& log_;
  RedisClient& redis_;
  loop::TimerQueue& timers_;
  socketio::RecoveryOptions options_;
  std::string prefix_;
  std::unordered_map<std::string, Live> live_;  // by pid
  std::string instance_;                        // random, per store
  uint64_t next_holder_ = 0;
  loop::Timer refresh_timer_;
  std::vector<std::function<void()>> deferred_;
  loop::Timer deferred_timer_;
  std::size_t pending_writes_ = 0;
  RedisSessionStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace daheim::cluster
