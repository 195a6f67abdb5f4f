// Collects the answers to one broadcast with ack (socket.io's
// BroadcastOperator.emit with an ack callback): complete when every server
// has reported how many clients it reached and that many answers arrived, or
// at the deadline. Shared by the namespace and every socket it reached.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "loop/timer.hpp"
#include "socketio/ack.hpp"

namespace daheim::socketio {

class BroadcastAck {
 public:
  BroadcastAck(BroadcastAckCallback callback, loop::TimePoint deadline)
      : callback_(std::move(callback)), deadline_(deadline) {}
  BroadcastAck(const BroadcastAck&) = delete;
  BroadcastAck& operator=(const BroadcastAck&) = delete;

  // One call per server: how many of its clients the broadcast reached.
  void add_client_count(std::size_t clients);
  // How many servers report (Adapter::server_count()).
  void set_server_count(std::size_t servers);
  void on_response(std::string_view args, std::vector<std::string>&& attachments);
  // Runs for every answer as it arrives (a cluster adapter forwards the
  // answers to a broadcast another node asked for).
  using ResponseHook =
      std::function<void(std::string_view args, const std::vector<std::string>& attachments)>;
  void set_response_hook(ResponseHook hook) { response_hook_ = std::move(hook); }
  // The deadline passed: complete with what arrived.
  void expire();

  bool done() const { return done_; }
  loop::TimePoint deadline() const { return deadline_; }
  std::size_t expected_clients() const { return expected_clients_; }

 private:
  void check();
  void finish(bool timed_out);

  BroadcastAckCallback callback_;
  ResponseHook response_hook_;
  std::vector<AckResponse> responses_;
  loop::TimePoint deadline_;
  std::size_t expected_clients_ = 0;
  std::size_t servers_reported_ = 0;
  std::size_t server_count_ = std::numeric_limits<std::size_t>::max();
  bool done_ = false;
};

}  // namespace daheim::socketio
