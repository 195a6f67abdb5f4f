// The newest entries of one Redis stream as this node's reader read them,
// in memory and indexed by whom they are addressed to (namespace, then each
// room of the broadcast's `opts.rooms`, or "everyone"), so that a recovery
// takes the events its session missed without reading the stream from Redis:
// its cost is its own events (its rooms' entries and the broadcasts to all),
// not every entry after its offset.
//
// The window holds every entry after its oldest one through the reader's
// cursor: entries are added in stream order, none skipped, and the oldest go
// first past the entry and byte bounds. A restore whose offset is not an
// entry of the window (older, or not an id of the stream) gets nullopt and
// reads Redis instead (RedisSessionStore).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cluster/stream_entry.hpp"
#include "socketio/broadcast_options.hpp"
#include "socketio/encoder.hpp"

namespace daheim::cluster {

struct StreamWindowOptions {
  std::size_t max_entries = 50000;
  std::size_t max_bytes = 32 * 1024 * 1024;  // approximate, see bytes()
};

class StreamWindow {
 public:
  explicit StreamWindow(StreamWindowOptions options) : options_(options) {}

  // Empties the window. `whole`: the entries added next are the stream from
  // its first entry on, so that an offset "0-0" (the stream was empty when
  // the session began) is in the window until the first eviction.
  void reset(bool whole);
  // The next entry of the stream (ids ascending; an id at or below the
  // newest is ignored). Broadcasts that get an offset (neither volatile nor
  // with an ack) are kept with their packet; other entries as their id.
  void add(const StreamEntry& entry);

  // The events of namespace `nsp` after `from` that select a session in
  // `rooms` (socketio::session_selects), oldest first, each with its entry
  // id as the offset; nullopt when `from` is not in the window.
  std::optional<std::vector<socketio::EncodedPacket>> missed(
      std::string_view nsp, StreamId from, const std::vector<std::string>& rooms) const;

  std::size_t size() const { return records_.size(); }
  // Packets, room names and index entries, approximately.
  std::size_t bytes() const { return bytes_; }
  uint64_t evicted() const { return evicted_; }

 private:
  struct Record {
    StreamId id;
    std::string nsp;  // empty: an id only (not an event with an offset)
    socketio::EncodedPacket packet;
    socketio::BroadcastOptions opts;  // rooms without duplicates
    std::size_t bytes = 0;
  };
  // One namespace's events: the sequence numbers of those for everyone and
  // of those for each room, ascending.
  struct NspIndex {
    std::deque<uint64_t> all;
    std::unordered_map<std::string, std::deque<uint64_t>> rooms;
  };
  void index(const Record& r, uint64_t seq);
  void evict_oldest();
  // The sequence number of the entry `from`, or nullopt.
  std::optional<uint64_t> seq_of(StreamId from) const;

  StreamWindowOptions options_;
  std::deque<Record> records_;  // oldest first
  uint64_t first_seq_ = 1;      // records_.front()'s
  std::unordered_map<std::string, NspIndex> index_;
  std::size_t bytes_ = 0;
  bool whole_ = false;
  uint64_t evicted_ = 0;
};

}  // namespace daheim::cluster
