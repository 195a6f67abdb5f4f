#include "socketio/broadcast_ack.hpp"

namespace daheim::socketio {

void BroadcastAck::add_client_count(std::size_t clients) {
  expected_clients_ += clients;
  ++servers_reported_;
  check();
}

void BroadcastAck::set_server_count(std::size_t servers) {
  server_count_ = servers;
  check();
}

void BroadcastAck::on_response(std::string_view args, std::vector<std::string>&& attachments) {
  if (done_) return;
  if (response_hook_) response_hook_(args, attachments);
  responses_.push_back({std::string(args), std::move(attachments)});
  check();
}

void BroadcastAck::expire() {
  if (!done_) finish(true);
}

void BroadcastAck::check() {
  if (done_ || servers_reported_ != server_count_ || responses_.size() != expected_clients_) return;
  finish(false);
}

void BroadcastAck::finish(bool timed_out) {
  done_ = true;
  BroadcastAckCallback callback = std::move(callback_);
  std::vector<AckResponse> responses = std::move(responses_);
  if (callback) callback(timed_out, responses);
}

}  // namespace daheim::socketio
