// Per client address (address_key): open TCP connections, open Engine.IO
// sessions (polling ones included, however many share one keep-alive
// connection) and new sessions per second (a token bucket). An entry is kept
// while its address has a connection or a session, or its bucket is not yet
// full again. Idle entries are swept every full_after() while the table is
// not empty (an address that stops coming is forgotten within two refill
// times of its last handshake), and each time the table has doubled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "loop/timer.hpp"

namespace daheim::transport {

struct AddressLimitOptions {
  std::size_t max_connections = 1000;   // 0: no limit
  std::size_t max_sessions = 1000;      // 0: no limit
  uint32_t handshakes_per_second = 20;  // 0: no limit
  uint32_t handshake_burst = 200;
};

class AddressLimits {
 public:
  enum class Verdict : uint8_t { Admit, TooManyConnections, TooManySessions, TooManyHandshakes };
  struct Stats {
    uint64_t connections_refused = 0;
    uint64_t sessions_refused = 0;
    uint64_t handshakes_refused = 0;
  };

  explicit AddressLimits(loop::TimerQueue& timers, AddressLimitOptions options = {});
  ~AddressLimits();
  AddressLimits(const AddressLimits&) = delete;
  AddressLimits& operator=(const AddressLimits&) = delete;

  // A new TCP connection from `key`; counted when admitted.
  Verdict add_connection(const std::string& key, loop::TimePoint now);
  void remove_connection(const std::string& key, loop::TimePoint now);
  // A new Engine.IO session (handshake) from `key`; counted when admitted.
  Verdict add_session(const std::string& key, loop::TimePoint now);
  // What add_session would answer, without counting (a WebSocket upgrade is
  // checked before the 101, counted once established).
  Verdict check_session(const std::string& key, loop::TimePoint now);
  // Whether add_session would admit, no refusal counted: a handshake that
  // would be refused is handed on to a path that checks (and counts) again.
  bool admits_session(const std::string& key, loop::TimePoint now);
  void remove_session(const std::string& key, loop::TimePoint now);

  const Stats& stats() const { return stats_; }
  // Addresses with an entry (daheim_engineio_addresses_tracked).
  std::size_t tracked() const { return entries_.size(); }
  // How long an empty handshake bucket takes to fill (the sweep period).
  loop::Millis full_after() const;
  const AddressLimitOptions& options() const { return options_; }

 private:
  struct Entry {
    uint32_t connections = 0;
    uint32_t sessions = 0;
    double tokens = 0;
    loop::TimePoint last{};
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, Entry, Hash, std::equal_to<>>;

  Entry& entry(const std::string& key, loop::TimePoint now);
  void refill(Entry& e, loop::TimePoint now) const;
  // The session and handshake limits for one more session (nothing taken).
  Verdict session_verdict(Entry& e, loop::TimePoint now, bool count_refusal = true);
  bool idle(Entry& e, loop::TimePoint now) const;
  void release(Map::iterator it, loop::TimePoint now);
  void sweep(loop::TimePoint now);
  void on_sweep_timer();

  loop::TimerQueue& timers_;
  AddressLimitOptions options_;
  Map entries_;
  std::size_t sweep_at_ = 1024;
  Stats stats_;
  loop::Timer sweeper_;  // armed while entries_ is not empty
};

}  // namespace daheim::transport
