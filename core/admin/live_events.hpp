// Development mode: what happens to every socket of every namespace reaches
// the admin namespace (socket_connected, socket_disconnected, room_joined,
// room_left, event_received, event_sent), cluster-wide through its adapter.
// Notifications are queued and emitted on the next loop turn, so that the
// admin namespace is never broadcast to from inside another broadcast or a
// room change; the queue is bounded (the excess is dropped and counted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loop/timer.hpp"
#include "socketio/namespace.hpp"

namespace daheim::admin {

using WallClock = std::function<int64_t()>;  // Unix time in ms

class LiveEvents {
 public:
  LiveEvents(socketio::Namespace& admin, std::size_t max_queued, WallClock wall);
  LiveEvents(const LiveEvents&) = delete;
  LiveEvents& operator=(const LiveEvents&) = delete;

  // Observes `nsp` (the admin namespace too: its sockets are listed as well).
  void watch(socketio::Namespace& nsp);
  uint64_t dropped() const { return dropped_; }
  // Emits what is queued now (the timer does so on the next loop turn).
  void flush();

 private:
  // `args`: the elements of the argument array after the event name.
  void queue(std::string_view event, std::string args);
  std::string date() const;

  socketio::Namespace& admin_;
  std::size_t max_queued_;
  WallClock wall_;
  std::vector<std::pair<std::string_view, std::string>> queue_;
  loop::Timer flush_timer_;
  uint64_t dropped_ = 0;
};

}  // namespace daheim::admin
