// The presence rules as Lua scripts, one per operation (atomic across
// nodes). Keys under ARGV[1] (the prefix, "presence:" by default):
//   socks:<user>  set of "<node>|<socket>"     role     hash user -> role
//   node:<node>   set of "<socket>|<user>"     counts   hash role -> online users
//   online        sorted set of users (score 0: ordered by id)
//   ready         hash user -> topic JSON      readyseq sorted set user -> order
//   grace         sorted set user -> expiry (ms of Redis TIME)   seq  counter
//   synced:<node> "1" once the node's connections are in Redis
// Keys are built in the scripts (a single Redis, not Redis Cluster).
#pragma once

#include <string>
#include <string_view>

namespace presence::lua {

// Shared functions, prepended to every script.
inline constexpr std::string_view kLib = R"(
local p = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function counts()
  return redis.call('HGETALL', p .. 'counts')
end
-- The values of hash `key` for `users`, in order (false where absent):
-- one HMGET per 1000 users (unpack has a stack limit), not one HGET each.
local function hmget(key, users)
  local out = {}
  for first = 1, #users, 1000 do
    local values = redis.call('HMGET', key, unpack(users, first, math.min(first + 999, #users)))
    for i = 1, #values do out[first + i - 1] = values[i] end
  end
  return out
end
-- The ready users in order, each followed by its topic.
local function ready_list()
  local out = {}
  local users = redis.call('ZRANGE', p .. 'readyseq', 0, -1)
  local topics = hmget(p .. 'ready', users)
  for i = 1, #users do
    out[#out + 1] = users[i]
    out[#out + 1] = topics[i] or 'null'
  end
  return out
end
local function drop(node, sock, user, grace)
  redis.call('SREM', p .. 'node:' .. node, sock .. '|' .. user)
  if redis.call('SREM', p .. 'socks:' .. user, node .. '|' .. sock) == 0 then return 0 end
  if redis.call('SCARD', p .. 'socks:' .. user) > 0 then return 0 end
  local role = redis.call('HGET', p .. 'role', user)
  if role and role ~= '' then redis.call('HINCRBY', p .. 'counts', role, -1) end
  redis.call('HDEL', p .. 'role', user)
  redis.call('ZREM', p .. 'online', user)
  if redis.call('HEXISTS', p .. 'ready', user) == 1 then
    redis.call('ZADD', p .. 'grace', now_ms() + tonumber(grace), user)
  end
  return 1
end
local function add(node, sock, user, role)
  local first = redis.call('SCARD', p .. 'socks:' .. user) == 0
  local old = redis.call('HGET', p .. 'role', user)
  if first then
    if role ~= '' then redis.call('HINCRBY', p .. 'counts', role, 1) end
  elseif old ~= role then
    if old and old ~= '' then redis.call('HINCRBY', p .. 'counts', old, -1) end
    if role ~= '' then redis.call('HINCRBY', p .. 'counts', role, 1) end
  end
  redis.call('SADD', p .. 'socks:' .. user, node .. '|' .. sock)
  redis.call('SADD', p .. 'node:' .. node, sock .. '|' .. user)
  redis.call('HSET', p .. 'role', user, role)
  redis.call('ZADD', p .. 'online', 0, user)
  redis.call('ZREM', p .. 'grace', user)
  return first
end
)";

// ARGV: prefix, node, socket, user, role, restored topic JSON ('' for none),
// '1' when the socket sees readyUsers -> {first, ready, topic, counts,
// readyList (empty unless it sees readyUsers), restored}. A recovered socket
// whose session kept the user's ready flag sets it again when the user was
// offline and the flag expired meanwhile (the user's first connection).
inline constexpr std::string_view kConnect = R"(
local user, restored = ARGV[4], ARGV[6] or ''
local first = add(ARGV[2], ARGV[3], user, ARGV[5])
local topic = redis.call('HGET', p .. 'ready', user)
local set = 0
if not topic and first and restored ~= '' then
  topic = restored
  redis.call('HSET', p .. 'ready', user, topic)
  redis.call('ZADD', p .. 'readyseq', redis.call('INCR', p .. 'seq'), user)
  set = 1
end
local list = {}
if ARGV[7] == '1' then list = ready_list() end
return {first and 1 or 0, topic and 1 or 0, topic or '', counts(), list, set}
)";

// ARGV: prefix, node, socket, user, grace -> 1 when it was the user's last
inline constexpr std::string_view kDisconnect = R"(
return drop(ARGV[2], ARGV[3], ARGV[4], ARGV[5])
)";

// ARGV: prefix, node, grace -> users whose last connection was there
inline constexpr std::string_view kDropNode = R"(
local node, n = ARGV[2], 0
for _, m in ipairs(redis.call('SMEMBERS', p .. 'node:' .. node)) do
  local bar = string.find(m, '|', 1, true)
  n = n + drop(node, string.sub(m, 1, bar - 1), string.sub(m, bar + 1), ARGV[3])
end
redis.call('DEL', p .. 'node:' .. node, p .. 'synced:' .. node)
return n
)";

// This node's connections as it knows them, after Redis was unreachable or
// lost its data: what Redis has of the node and the node does not is
// dropped, what the node has and Redis does not is added, and the node is
// marked synced (kExpire reports a missing mark: Redis restarted empty).
// ARGV: prefix, node, grace, then socket, user, role for each connection
// -> 1 when the state changed
inline constexpr std::string_view kSyncNode = R"(
local node, grace, changed = ARGV[2], ARGV[3], 0
local want = {}
for i = 4, #ARGV, 3 do want[ARGV[i] .. '|' .. ARGV[i + 1]] = true end
for _, m in ipairs(redis.call('SMEMBERS', p .. 'node:' .. node)) do
  if not want[m] then
    local bar = string.find(m, '|', 1, true)
    drop(node, string.sub(m, 1, bar - 1), string.sub(m, bar + 1), grace)
    changed = 1
  end
end
for i = 4, #ARGV, 3 do
  if redis.call('SISMEMBER', p .. 'node:' .. node, ARGV[i] .. '|' .. ARGV[i + 1]) == 0 then
    add(node, ARGV[i], ARGV[i + 1], ARGV[i + 2])
    changed = 1
  end
end
redis.call('SET', p .. 'synced:' .. node, '1')
return changed
)";

// ARGV: prefix, user, topic JSON -> 1 when it changed
inline constexpr std::string_view kSetReady = R"(
local user, topic = ARGV[2], ARGV[3]
local old = redis.call('HGET', p .. 'ready', user)
if old == topic then return 0 end
redis.call('HSET', p .. 'ready', user, topic)
if not old then redis.call('ZADD', p .. 'readyseq', redis.call('INCR', p .. 'seq'), user) end
return 1
)";

// ARGV: prefix, user -> 1 when the user was ready
inline constexpr std::string_view kClearReady = R"(
local user = ARGV[2]
if redis.call('HDEL', p .. 'ready', user) == 0 then return 0 end
redis.call('ZREM', p .. 'readyseq', user)
redis.call('ZREM', p .. 'grace', user)
return 1
)";

// ARGV: prefix, node -> {the number of ready flags whose grace ended,
// 1 when this node's connections are in Redis (kSyncNode ran)}
inline constexpr std::string_view kExpire = R"(
local synced = redis.call('EXISTS', p .. 'synced:' .. ARGV[2])
local users = redis.call('ZRANGEBYSCORE', p .. 'grace', '-inf', now_ms())
for _, u in ipairs(users) do
  redis.call('HDEL', p .. 'ready', u)
  redis.call('ZREM', p .. 'readyseq', u)
  redis.call('ZREM', p .. 'grace', u)
end
return {#users, synced}
)";

// ARGV: prefix -> {counts, readyList}
inline constexpr std::string_view kState = R"(
return {counts(), ready_list()}
)";

// ARGV: prefix, offset, limit -> {total, {user, role, topic or 'null', ready}...}
inline constexpr std::string_view kList = R"(
local off, lim = tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {redis.call('ZCARD', p .. 'online')}
local users = redis.call('ZRANGE', p .. 'online', off, off + lim - 1)
local topics, roles = hmget(p .. 'ready', users), hmget(p .. 'role', users)
for i, u in ipairs(users) do
  local t = topics[i]
  out[#out + 1] = {u, roles[i] or '', t or 'null', t and 1 or 0}
end
return out
)";

inline std::string script(std::string_view body) {
  return std::string(kLib) + std::string(body);
}

}  // namespace presence::lua
