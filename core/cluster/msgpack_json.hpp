// Socket.IO payloads between JSON text (how this server keeps them) and
// MessagePack (how socket.io's Redis adapters put them on the wire, written
// by notepack.io): JSON numbers that are integral become msgpack integers in
// the smallest encoding, others float64; binary placeholders
// ({"_placeholder":true,"num":N}) become `bin` values and back.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#define MSGPACK_NO_BOOST 1
#include <msgpack.hpp>

namespace daheim::cluster {

using Packer = msgpack::packer<msgpack::sbuffer>;

// Nesting allowed in either direction.
inline constexpr std::size_t kMaxNesting = 64;

// Packs the JSON value `json`. Objects with "_placeholder":true and a valid
// "num" become `bin` with that attachment. false: not valid JSON (`pk` then
// holds a partial value: discard the buffer).
bool pack_json(Packer& pk, std::string_view json,
               std::span<const std::string_view> attachments = {});

// Appends `o` as JSON. `bin` (and notepack's ArrayBuffer ext) becomes a
// placeholder and its bytes an attachment; notepack's undefined becomes null
// (omitted in maps), its Date an ISO-8601 string. false: not representable
// (invalid UTF-8, a key that is not a string or number, an unknown ext,
// too deep).
bool append_json(std::string& out, const msgpack::object& o, std::vector<std::string>& attachments,
                 std::size_t depth = 0);

// Unpack limits for messages read from Redis.
msgpack::unpack_limit unpack_limits(std::size_t max_bytes);
// True when `bytes` is exactly one value whose every announced element is
// there, nested at most kMaxNesting deep. Builds nothing: msgpack's unpacker
// reserves room for a container's announced count when it meets the header,
// so a short message announcing huge maps at every level would have it
// allocate gigabytes before finding out the elements are missing.
bool complete_msgpack(std::string_view bytes);
// Unpacks `bytes` with every str/bin/ext referencing them (append_json needs
// that for ext), once complete_msgpack has passed them. Throws msgpack's
// exceptions on malformed input.
msgpack::object_handle unpack_referencing(std::string_view bytes, std::size_t max_bytes);

}  // namespace daheim::cluster
