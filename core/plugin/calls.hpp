// The calls plugins answer. A method runs with a SyncCall on the loop's
// stack; call_defer() turns it into a PendingCall kept in the CallRegistry
// until a reply (from any thread) takes it out: a call is answered at most
// once. A deferred call's handle is an id (tagged odd so that it never
// equals a SyncCall's address), never a pointer the host dereferences.
// Both carry their method's CallStats and the time of the dispatch.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daheim/plugin.h"
#include "plugin/call_stats.hpp"

struct dhl_ctx;

namespace daheim::socketio {
class Namespace;
class Socket;
}  // namespace daheim::socketio

namespace daheim::plugin {

// An answer copied off the loop: the ack's arguments, or nothing returned.
struct Answer {
  bool nothing = false;
  std::string args;  // JSON array text (checked)
  std::vector<std::string> attachments;
  CallOutcome outcome = CallOutcome::Ok;
};

struct SyncCall {
  enum class State : uint8_t { Open, Answered, Deferred };
  dhl_ctx* ctx;
  const char* method;  // "$name", from the plugin's descriptor
  socketio::Socket* socket;
  std::optional<uint64_t> ack_id;
  CallStats* stats;
  std::chrono::steady_clock::time_point started;
  State state = State::Open;
};

struct PendingCall {
  dhl_ctx* ctx = nullptr;
  const char* method = nullptr;
  socketio::Namespace* nsp = nullptr;
  std::string socket_id;
  std::optional<uint64_t> ack_id;
  CallStats* stats = nullptr;
  std::chrono::steady_clock::time_point started{};
};

inline bool is_deferred_handle(const dhl_call* call) {
  return (reinterpret_cast<uintptr_t>(call) & 1u) != 0;
}
inline dhl_call* deferred_handle(uint64_t id) {
  return reinterpret_cast<dhl_call*>(static_cast<uintptr_t>((id << 1) | 1u));
}
inline uint64_t deferred_id(const dhl_call* call) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(call) >> 1);
}
inline dhl_call* sync_handle(SyncCall* call) {
  return reinterpret_cast<dhl_call*>(call);
}

// Deferred calls. Thread-safe.
class CallRegistry {
 public:
  dhl_call* add(PendingCall call);
  // Takes the call out: nullopt when it is unknown (answered already).
  std::optional<PendingCall> take(const dhl_call* handle);
  // 1 / 0 when the call is pending and wants / does not want an ack, -1 if unknown.
  int wants_ack(const dhl_call* handle) const;
  // Drops every pending call of `ctx` (all when null); returns how many.
  std::size_t drop(const dhl_ctx* ctx);
  std::size_t size() const;
  // Takes out the calls dispatched at or before `cutoff` (oldest first).
  std::vector<PendingCall> take_older(std::chrono::steady_clock::time_point cutoff);
  // When the oldest pending call was dispatched; nullopt when none is.
  std::optional<std::chrono::steady_clock::time_point> oldest() const;

 private:
  mutable std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, PendingCall> calls_;  // ids grow with the dispatch time
};

}  // namespace daheim::plugin
