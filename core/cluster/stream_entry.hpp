// The Redis stream entries of @socket.io/redis-streams-adapter 0.3
// (reference/cluster.md §1.3): fields `uid`, `nsp`, `type` (decimal) and
// `data`, a ClusterAdapter message's data as JSON, or as base64 of its
// msgpack encoding when it carries binary. Entry ids ("<ms>-<seq>") are the
// offsets of connection-state recovery.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cluster/msgpack_json.hpp"

namespace daheim::cluster {

// One entry as read back (XREAD, XRANGE).
struct StreamEntry {
  std::string id;
  std::string uid;
  std::string nsp;  // empty: none (such entries are skipped)
  int64_t type = 0;
  std::string data;  // the field as stored, empty when absent
};

// A stream id, ordered as Redis orders them.
struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  auto operator<=>(const StreamId&) const = default;
  std::string text() const { return std::to_string(ms) + "-" + std::to_string(seq); }
};
// "<digits>-<digits>" (the reference's /^[0-9]+-[0-9]+$/), else nullopt.
std::optional<StreamId> parse_stream_id(std::string_view id);

// Java's String.hashCode over the UTF-16 code units of `s` (the reference's
// hashCode), and the stream a namespace's messages go to: `base` with one
// stream, else `base-<hash % count>` with JavaScript's remainder (negative
// hashes give "base--N", as the reference does).
int32_t java_hash(std::string_view utf8);
std::string stream_for(std::string_view base, std::size_t count, std::string_view nsp);

// The `data` field for a message whose data is `data_json`: the JSON itself,
// or base64(msgpack) when `attachments` (binary placeholders) are present.
// Empty when the JSON is invalid.
std::string encode_stream_data(std::string_view data_json,
                               std::span<const std::string_view> attachments);
// The `data` field as msgpack into `buf` (JSON when it starts with '{',
// else base64 msgpack). false: neither.
bool decode_stream_data(std::string_view field, msgpack::sbuffer& buf);

// Standard base64 (padded), for the data field and the session keys.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace daheim::cluster
