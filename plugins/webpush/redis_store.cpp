#include "redis_store.hpp"

#include <utility>

namespace webpush {

namespace {

// Shared by both scripts: the keys of a user, and dropping one endpoint.
constexpr std::string_view kPrelude = R"(
local p = ARGV[1]
local owners = p .. '#owners'
local function hash(u) return p .. '#u#' .. u end
local function order(u) return p .. '#o#' .. u end
local function drop(u, e)
  if redis.call('HDEL', hash(u), e) == 0 then return 0 end
  redis.call('ZREM', order(u), e)
  if redis.call('HGET', owners, e) == u then redis.call('HDEL', owners, e) end
  return 1
end
)";

// ARGV: prefix, user, endpoint, json, maxPerUser, maxTotal
constexpr std::string_view kAdd = R"(
local user, ep, json = ARGV[2], ARGV[3], ARGV[4]
local cap, max_total = tonumber(ARGV[5]), tonumber(ARGV[6])
local owner = redis.call('HGET', owners, ep)
if owner and owner ~= user then drop(owner, ep) end
if redis.call('HEXISTS', hash(user), ep) == 0 then
  if redis.call('HLEN', owners) >= max_total then return {0, redis.call('HLEN', owners)} end
  while redis.call('HLEN', hash(user)) >= cap do
    local oldest = redis.call('ZRANGE', order(user), 0, 0)[1]
    if not oldest then break end
    drop(user, oldest)
  end
end
local last = redis.call('ZRANGE', order(user), -1, -1, 'WITHSCORES')
local seq = (last[2] and tonumber(last[2]) or 0) + 1
redis.call('HSET', hash(user), ep, json)
redis.call('ZADD', order(user), seq, ep)
redis.call('HSET', owners, ep, user)
return {1, redis.call('HLEN', owners)}
)";

// ARGV: prefix, user, endpoint
constexpr std::string_view kRemove = R"(
local removed = drop(ARGV[2], ARGV[3])
return {removed, redis.call('HLEN', owners)}
)";

}  // namespace

const std::string& RedisStore::add_script() {
  static const std::string s = std::string(kPrelude) + std::string(kAdd);
  return s;
}

const std::string& RedisStore::remove_script() {
  static const std::string s = std::string(kPrelude) + std::string(kRemove);
  return s;
}

void RedisStore::run(const std::string& script, std::vector<std::string> args, StoreResult no,
                     DoneFn fn) {
  args.insert(args.begin(), prefix_);
  auto done = std::make_shared<DoneFn>(std::move(fn));
  int rc =
      host_.redis_script(script, {}, args, [this, no, done](int status, const dhl::RedisReply& r) {
        if (status != DHL_OK || !r.is_array() || r.elements.size() != 2) {
          host_.warning("redis: subscription store script failed (" + std::to_string(status) +
                        ") " + r.str);
          return (*done)(StoreResult::Unavailable);
        }
        total_ = static_cast<std::size_t>(r[1].integer);
        (*done)(r[0].integer == 1 ? StoreResult::Done : no);
      });
  if (rc == DHL_OK) return;
  host_.warning("redis unavailable (" + std::to_string(rc) + "): subscription store");
  (*done)(StoreResult::Unavailable);
}

void RedisStore::add(std::string_view user, Subscription sub, DoneFn fn) {
  run(add_script(),
      {std::string(user), sub.endpoint, sub.to_json().dump(), std::to_string(max_per_user_),
       std::to_string(max_total_)},
      StoreResult::Full, std::move(fn));
}

void RedisStore::remove(std::string_view user, std::string_view endpoint, DoneFn fn) {
  run(remove_script(), {std::string(user), std::string(endpoint)}, StoreResult::Missing,
      std::move(fn));
}

void RedisStore::list(std::string_view user, ListFn fn) {
  auto done = std::make_shared<ListFn>(std::move(fn));
  int rc = host_.redis(
      {"HVALS", prefix_ + "#u#" + std::string(user)},
      [this, done](int status, const dhl::RedisReply& r) {
        std::vector<Subscription> subs;
        if (status != DHL_OK)
          host_.warning("redis: subscriptions not read (" + std::to_string(status) + ") " + r.str);
        for (const dhl::RedisReply& e : r.elements) {
          std::string error;
          std::optional<dhl::Json> j = dhl::Json::parse(e.str);
          std::optional<Subscription> s = j ? parse_subscription(*j, true, error) : std::nullopt;
          if (s)
            subs.push_back(std::move(*s));
          else
            host_.warning("redis: skipped an unreadable subscription");
        }
        (*done)(std::move(subs));
      });
  if (rc == DHL_OK) return;
  host_.warning("redis unavailable (" + std::to_string(rc) + "): subscriptions not read");
  (*done)({});
}

}  // namespace webpush
