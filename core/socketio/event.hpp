// An event a client emitted, as a namespace's event handler receives it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace daheim::socketio {

// Views are valid for the duration of the handler call only.
struct Event {
  std::string_view name;
  // The arguments after the name as the JSON text of an array, byte for byte
  // as the client wrote them (`["message",1,{"a":2}]` gives `[1,{"a":2}]`);
  // binary arguments are `{"_placeholder":true,"num":N}` placeholders.
  std::string_view args;
  // The binary arguments, indexed by the placeholders' num. Movable.
  std::vector<std::string> attachments;
  // Set when the client waits for an answer: Socket::ack(*ack_id, ...).
  std::optional<uint64_t> ack_id;
};

}  // namespace daheim::socketio
