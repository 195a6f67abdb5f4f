// Callbacks for acknowledgements the server asked a client for.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace daheim::socketio {

// Runs exactly once for every emit_with_ack that returned true: with the
// client's answer (`args` = JSON array text, `attachments` movable), or with
// timed_out = true and no arguments when no answer came in time or the
// socket disconnected first.
using AckCallback = std::function<void(bool timed_out, std::string_view args,
                                       std::vector<std::string>& attachments)>;

// One client's answer to a broadcast with ack.
struct AckResponse {
  std::string args;  // JSON array text
  std::vector<std::string> attachments;
};

// Runs exactly once per broadcast with ack: when every reached client
// answered, or at the timeout with the answers received so far.
using BroadcastAckCallback =
    std::function<void(bool timed_out, std::vector<AckResponse>& responses)>;

}  // namespace daheim::socketio
