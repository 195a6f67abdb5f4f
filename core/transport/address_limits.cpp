#include "transport/address_limits.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>

namespace daheim::transport {

AddressLimits::AddressLimits(loop::TimerQueue& timers, AddressLimitOptions options)
    : timers_(timers), options_(options), sweeper_(timers, [this] { on_sweep_timer(); }) {}

AddressLimits::~AddressLimits() {
  sweeper_.disarm();
}

loop::Millis AddressLimits::full_after() const {
  uint64_t rate = std::max<uint32_t>(1, options_.handshakes_per_second);
  return loop::Millis((uint64_t{options_.handshake_burst} * 1000 + rate - 1) / rate);
}

AddressLimits::Entry& AddressLimits::entry(const std::string& key, loop::TimePoint now) {
  if (entries_.size() >= sweep_at_) sweep(now);
  auto [it, fresh] = entries_.try_emplace(key);
  if (fresh) {
    it->second.tokens = options_.handshake_burst;
    it->second.last = now;
    if (!sweeper_.armed()) sweeper_.arm(full_after());
  }
  return it->second;
}

void AddressLimits::on_sweep_timer() {
  sweep(timers_.now());
  if (!entries_.empty()) sweeper_.arm(full_after());
}

void AddressLimits::refill(Entry& e, loop::TimePoint now) const {
  if (now <= e.last) return;
  double seconds = std::chrono::duration<double>(now - e.last).count();
  e.tokens = std::min<double>(options_.handshake_burst,
                              e.tokens + seconds * options_.handshakes_per_second);
  e.last = now;
}

bool AddressLimits::idle(Entry& e, loop::TimePoint now) const {
  if (e.connections != 0 || e.sessions != 0) return false;
  if (options_.handshakes_per_second == 0) return true;
  refill(e, now);
  return e.tokens >= options_.handshake_burst;
}

void AddressLimits::release(Map::iterator it, loop::TimePoint now) {
  if (idle(it->second, now)) entries_.erase(it);
}

// Drops idle entries and gives back the bucket array of a table that shrank;
// the next sweep on growth waits until the table has doubled.
void AddressLimits::sweep(loop::TimePoint now) {
  for (auto it = entries_.begin(); it != entries_.end();)
    it = idle(it->second, now) ? entries_.erase(it) : std::next(it);
  entries_.rehash(0);
  sweep_at_ = std::max<std::size_t>(1024, entries_.size() * 2);
}

AddressLimits::Verdict AddressLimits::add_connection(const std::string& key, loop::TimePoint now) {
  Entry& e = entry(key, now);
  if (options_.max_connections != 0 && e.connections >= options_.max_connections) {
    ++stats_.connections_refused;
    return Verdict::TooManyConnections;
  }
  ++e.connections;
  return Verdict::Admit;
}

void AddressLimits::remove_connection(const std::string& key, loop::TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.connections > 0) --it->second.connections;
  release(it, now);
}

AddressLimits::Verdict AddressLimits::session_verdict(Entry& e, loop::TimePoint now,
                                                      bool count_refusal) {
  if (options_.max_sessions != 0 && e.sessions >= options_.max_sessions) {
    if (count_refusal) ++stats_.sessions_refused;
    return Verdict::TooManySessions;
  }
  if (options_.handshakes_per_second != 0) {
    refill(e, now);
    if (e.tokens < 1) {
      if (count_refusal) ++stats_.handshakes_refused;
      return Verdict::TooManyHandshakes;
    }
  }
  return Verdict::Admit;
}

bool AddressLimits::admits_session(const std::string& key, loop::TimePoint now) {
  auto it = entries_.find(key);
  return it == entries_.end() || session_verdict(it->second, now, false) == Verdict::Admit;
}

AddressLimits::Verdict AddressLimits::check_session(const std::string& key, loop::TimePoint now) {
  auto it = entries_.find(key);
  return it == entries_.end() ? Verdict::Admit : session_verdict(it->second, now);
}

AddressLimits::Verdict AddressLimits::add_session(const std::string& key, loop::TimePoint now) {
  Entry& e = entry(key, now);
  if (Verdict v = session_verdict(e, now); v != Verdict::Admit) return v;
  if (options_.handshakes_per_second != 0) e.tokens -= 1;
  ++e.sessions;
  return Verdict::Admit;
}

void AddressLimits::remove_session(const std::string& key, loop::TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.sessions > 0) --it->second.sessions;
  release(it, now);
}

}  // namespace daheim::transport
