// A BROADCAST (type 3) read from the stream, and the packet it becomes for
// this node's sockets: with the entry id appended as the offset when
// connection-state recovery is on and the event is neither volatile nor
// waiting for an ack (socket.io-adapter's addOffsetIfNecessary).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cluster/stream_entry.hpp"
#include "socketio/broadcast_options.hpp"
#include "socketio/encoder.hpp"

namespace daheim::cluster {

struct StreamBroadcast {
  socketio::BroadcastOptions opts;
  std::string json;  // [event, ...args], placeholders for the attachments
  std::vector<std::string> attachments;
  bool has_ack_id = false;   // packet.id present (never given an offset)
  bool has_request = false;  // requestId present (an ack broadcast)
};

// false: not a well-formed broadcast.
bool decode_stream_broadcast(const StreamEntry& entry, StreamBroadcast& out);
// The EVENT packet; `offset` empty: none appended.
socketio::EncodedPacket stream_packet(std::string_view nsp, const StreamBroadcast& b,
                                      std::string_view offset);
// Whether `b` gets an offset (recovery on).
inline bool takes_offset(const StreamBroadcast& b) {
  return !b.opts.flags.volatile_ && !b.has_ack_id && !b.has_request;
}

}  // namespace daheim::cluster
