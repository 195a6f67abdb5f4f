// The single-process recovery store (socket.io-adapter's SessionAwareAdapter,
// bounded): a log of the events that got an offset and the sessions of
// disconnected sockets, both dropped oldest first past the configured time,
// count and byte bounds.
//
// Offsets are "<epoch><seq>": four characters drawn at start-up, then the
// event's sequence number in base64url digits. An offset is valid while no
// event after it was dropped, so an idle client (whose last event aged out
// of the log) still recovers; one from another process does not parse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loop/timer.hpp"
#include "socketio/options.hpp"
#include "socketio/session_store.hpp"

namespace daheim::socketio {

class InMemorySessionStore final : public SessionStore {
 public:
  InMemorySessionStore(loop::TimerQueue& timers, const RecoveryOptions& options);
  ~InMemorySessionStore() override;
  InMemorySessionStore(const InMemorySessionStore&) = delete;
  InMemorySessionStore& operator=(const InMemorySessionStore&) = delete;

  void append(const LoggedEvent& event, Deliver deliver) override;
  std::string head(std::string_view nsp) const override;
  void save(SavedSession session) override;
  void restore(std::string_view nsp, std::string_view pid, std::string_view offset,
               RestoreCallback callback) override;
  void forget(std::string_view pid) override;

  // Counters for /metrics.
  struct Stats {
    uint64_t logged = 0;              // events given an offset
    uint64_t log_dropped = 0;         // events dropped by age, count or bytes
    uint64_t saved = 0;               // sessions saved at a disconnect
    uint64_t expired = 0;             // sessions dropped past the duration
    uint64_t evicted = 0;             // sessions dropped for max_sessions
    uint64_t restored = 0;            // restores answered with a session
    uint64_t restore_unknown = 0;     // no such session (or expired)
    uint64_t restore_bad_offset = 0;  // offset unknown or no longer in the log
  };
  const Stats& stats() const { return stats_; }
  std::size_t session_count() const { return sessions_.size(); }
  std::size_t log_size() const { return log_.size(); }
  // Approximate memory of the log (frames, rooms, entries).
  std::size_t log_bytes() const { return log_bytes_; }

  // The sequence number of an offset of this store, or nullopt.
  std::optional<uint64_t> parse_offset(std::string_view offset) const;
  std::string make_offset(uint64_t seq) const;

 private:
  struct Entry {
    uint64_t seq;
    loop::TimePoint at;
    std::size_t bytes;
    std::string nsp;
    BroadcastOptions opts;
    EncodedPacket packet;
  };
  struct Stored {
    SavedSession session;
    loop::TimePoint at;
  };
  struct Request {
    std::string nsp;
    std::string pid;
    std::string offset;
    RestoreCallback callback;
  };

  void trim_log(loop::TimePoint now);
  void trim_sessions(loop::TimePoint now);
  void answer_requests();
  std::optional<RestoredSession> lookup(const Request& request);

  loop::TimerQueue& timers_;
  RecoveryOptions options_;
  std::string epoch_;
  std::deque<Entry> log_;
  std::size_t log_bytes_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t dropped_through_ = 0;  // the newest dropped sequence number
  std::unordered_map<std::string, Stored> sessions_;
  std::deque<std::pair<loop::TimePoint, std::string>> by_age_;  // may hold stale pids
  std::vector<Request> requests_;
  Stats stats_;
  loop::Timer answer_timer_;
};

}  // namespace daheim::socketio
