// Lua scripts on the command connection: EVALSHA with the script's SHA-1,
// and EVAL when Redis answers NOSCRIPT (a restarted or flushed Redis).
// Loop thread only.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "cluster/redis_client.hpp"

namespace daheim::cluster {

// The script's SHA-1 in lower-case hex, as Redis names it.
std::string script_sha1(std::string_view script);

// Runs `script` (whose SHA-1 is `sha`). false: not connected (the callback
// is not kept); otherwise the callback gets the reply, or null when the
// connection was lost first.
bool run_script(RedisClient& redis, std::string_view script, std::string_view sha,
                std::span<const std::string_view> keys, std::span<const std::string_view> args,
                RedisConnection::ReplyCallback callback);

}  // namespace daheim::cluster
