#include "cluster/node_registry.hpp"

#include <hiredis/hiredis.h>

#include <string_view>
#include <vector>

#include "cluster/redis_script.hpp"

namespace daheim::cluster {
namespace {

// KEYS[1]: the nodes set; ARGV: heartbeat prefix, own id, ttl (ms).
constexpr std::string_view kBeat = R"(
redis.call('SET', ARGV[1] .. ARGV[2], '1', 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], 0, ARGV[2])
local alive = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. id) == 1 then
    alive[#alive + 1] = id
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return alive
)";

}  // namespace

NodeRegistry::NodeRegistry(RedisClient& redis, loop::TimerQueue& timers,
                           NodeRegistryOptions options)
    : redis_(redis),
      options_(std::move(options)),
      nodes_key_(options_.key + "#nodes"),
      heartbeat_prefix_(options_.key + "#node#"),
      sha_(script_sha1(kBeat)),
      timer_(timers, [this] { beat(); }),
      alive_(std::make_shared<bool>(true)) {}

NodeRegistry::~NodeRegistry() {
  *alive_ = false;
}

void NodeRegistry::start() {
  running_ = true;
  beat();
}

void NodeRegistry::stop() {
  if (!running_) return;
  running_ = false;
  timer_.disarm();
  std::string hb = heartbeat_prefix_ + options_.id;
  std::string_view del[] = {"DEL", hb};
  redis_.command(del, [](const redisReply*) {});
  std::string_view rem[] = {"ZREM", nodes_key_, options_.id};
  redis_.command(rem, [](const redisReply*) {});
}

void NodeRegistry::beat() {
  if (!running_) return;
  timer_.arm(options_.interval);
  if (in_flight_) return;
  std::string ttl = std::to_string(options_.ttl.count());
  std::string_view keys[] = {nodes_key_};
  std::string_view args[] = {heartbeat_prefix_, options_.id, ttl};
  in_flight_ =
      run_script(redis_, kBeat, sha_, keys, args, [this, alive = alive_](const redisReply* reply) {
        if (*alive) on_reply(reply);
      });
}

void NodeRegistry::on_reply(const redisReply* reply) {
  in_flight_ = false;
  if (!reply || reply->type != REDIS_REPLY_ARRAY) return;  // Redis trouble: nothing changes
  ++beats_;
  std::set<std::string> now;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    const redisReply* e = reply->element[i];
    if (e->type != REDIS_REPLY_STRING) continue;
    std::string id(e->str, e->len);
    if (id != options_.id) now.insert(std::move(id));
  }
  std::vector<std::pair<bool, std::string>> events;
  for (const std::string& id : others_)
    if (!now.contains(id)) events.emplace_back(false, id);
  for (const std::string& id : now)
    if (!others_.contains(id)) events.emplace_back(true, id);
  others_ = std::move(now);
  if (!handler_) return;
  auto alive = alive_;
  for (const auto& [joined, id] : events) {
    handler_(joined, id);
    if (!*alive) return;
  }
}

}  // namespace daheim::cluster
