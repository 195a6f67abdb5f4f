// Writes sessions' queued frames on their WebSockets, and answers their held
// long-polling GETs (SessionEntry::write_now). Frames queued while the
// loop handles events are written when the turn ends (flush()), so a socket
// that got several frames in one turn (a burst of broadcasts, an ack and an
// event) gets them in one write, and no frame waits for a WRITEABLE round
// trip. What the kernel does not take, lws keeps and sends when the socket is
// writable; frames queued meanwhile wait for WRITEABLE. Service thread only.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engineio/session.hpp"

struct lws;

namespace daheim::transport {

struct SessionEntry;
struct EndpointStats;

class WsWriter {
 public:
  explicit WsWriter(EndpointStats& stats) : stats_(stats) {}

  // `entry`'s WebSocket has frames to write, or its held GET an answer, at
  // the end of this turn.
  void defer(SessionEntry& entry);
  // `entry` is going away.
  void forget(SessionEntry& entry);
  // Writes what was deferred (end of a loop turn).
  void flush();
  bool pending() const { return !deferred_.empty(); }

  // Writes the session's queued frames while lws holds nothing back for the
  // socket, several frames per write. False if a write failed.
  bool write_queued(lws* wsi, engineio::Session& session);
  // One frame, from its own buffer (its headroom takes lws's frame header).
  bool write_frame(lws* wsi, const engineio::Frame& frame);

 private:
  bool write_batch(lws* wsi, engineio::Session& session);
  void count_write(lws* wsi);

  EndpointStats& stats_;
  std::vector<SessionEntry*> deferred_;
  std::string batch_;  // LWS_PRE, then WebSocket frames
};

// The header of an unmasked, final server frame of `size` bytes; returns its
// length (2, 4 or 10) and writes it to `out`.
std::size_t ws_frame_header(bool binary, std::size_t size, unsigned char out[10]);

}  // namespace daheim::transport
