// Encodes Socket.IO packets into Engine.IO frames: one text message frame
// ("4" + packet), then one binary frame per attachment. A packet is encoded
// once; its frames are immutable and may be sent to any number of sessions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/packet.hpp"
#include "socketio/packet.hpp"

namespace daheim::socketio {

struct EncodedPacket {
  engineio::FramePtr text;
  std::vector<engineio::FramePtr> attachments;
  // Connection-state recovery: the event is in the log (it carries an
  // offset), or it is volatile and its last argument is a string, which
  // socket.io-client takes for an offset: its session_store::tail_hash.
  bool logged = false;
  uint64_t volatile_tail = 0;
};

// Appends "<type>[<n>-][<nsp>,][<id>]". An EVENT / ACK with attachments is
// written as BINARY_EVENT / BINARY_ACK.
void append_header(std::string& out, PacketType type, std::string_view nsp, std::size_t attachments,
                   std::optional<uint64_t> id);

// A packet whose payload is given as JSON text (empty = none).
EncodedPacket encode(PacketType type, std::string_view nsp, std::optional<uint64_t> id,
                     std::string_view payload, std::span<const std::string> attachments = {});

// `args` is the JSON text of the argument array, spliced in as it is
// (empty = no arguments; any other JSON value is sent as the only argument).
// Placeholders for the attachments must already be in `args`.
EncodedPacket encode_event(std::string_view nsp, std::string_view name, std::string_view args,
                           std::span<const std::string> attachments = {},
                           std::optional<uint64_t> id = std::nullopt);
// The same event with `offset` appended as its last argument (connection-state
// recovery): 2["name",...args,"<offset>"].
EncodedPacket encode_logged_event(std::string_view nsp, std::string_view name,
                                  std::string_view args, std::span<const std::string> attachments,
                                  std::string_view offset);
EncodedPacket encode_ack(std::string_view nsp, uint64_t id, std::string_view args,
                         std::span<const std::string> attachments = {});
// 0[/nsp,]{"sid":"<sid>"}, or {"sid":"<sid>","pid":"<pid>"} when `pid` is
// not empty (connection-state recovery)
EncodedPacket encode_connect(std::string_view nsp, std::string_view sid, std::string_view pid = {});
// 4[/nsp,]{"message":"...","data":<data>} (data omitted when empty)
EncodedPacket encode_connect_error(std::string_view nsp, std::string_view message,
                                   std::string_view data_json = {});
// 1[/nsp,]
EncodedPacket encode_disconnect(std::string_view nsp);

// Appends the JSON array `args` as it would follow an event name: "]" when
// empty, else "," + the elements + "]".
void append_args_after_name(std::string& out, std::string_view args);

}  // namespace daheim::socketio
