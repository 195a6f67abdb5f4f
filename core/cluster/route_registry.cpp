#include "cluster/route_registry.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <utility>

#include "engineio/sid.hpp"

namespace daheim::cluster {
namespace {

// Lookups of unknown tags are cached for a short while (a client retrying a
// dead node's sid costs one GET a second); the cache is bounded.
constexpr loop::Millis kNegativeTtl{1000};
constexpr std::size_t kMaxCached = 4096;
constexpr loop::Millis kRetry{200};

}  // namespace

RouteRegistry::RouteRegistry(RedisClient& redis, loop::TimerQueue& timers,
                             RouteRegistryOptions options)
    : redis_(redis),
      timers_(timers),
      options_(std::move(options)),
      prefix_(options_.key + "#route#"),
      tag_(engineio::generate_id().substr(0, kTagLength)),
      timer_(timers, [this] { publish(); }),
      alive_(std::make_shared<bool>(true)) {}

RouteRegistry::~RouteRegistry() {
  *alive_ = false;
}

void RouteRegistry::start(std::string address, std::function<void()> advertised) {
  address_ = std::move(address);
  on_advertised_ = std::move(advertised);
  running_ = true;
  publish();
}

void RouteRegistry::stop() {
  if (!running_) return;
  running_ = false;
  timer_.disarm();
  std::string key = key_of(tag_);
  std::string_view del[] = {"DEL", key};
  redis_.command(del, [](const redisReply*) {});
}

void RouteRegistry::publish() {
  if (!running_) return;
  std::string key = key_of(tag_);
  std::string ttl = std::to_string(options_.ttl.count());
  std::string_view set[] = {"SET", key, address_, "PX", ttl};
  // Not connected yet (or any more): try again soon.
  auto alive = alive_;
  bool sent = redis_.command(set, [this, alive](const redisReply* reply) {
    if (*alive) on_written(reply);
  });
  timer_.arm(sent ? options_.interval : std::min(options_.interval, kRetry));
}

// The first confirmed write makes the node reachable; until then a write
// that failed is tried again soon rather than after the interval.
void RouteRegistry::on_written(const redisReply* reply) {
  if (advertised_ || !running_) return;
  bool ok = reply && reply->type == REDIS_REPLY_STATUS;
  if (!ok) {
    timer_.arm(std::min(options_.interval, kRetry));
    return;
  }
  advertised_ = true;
  if (std::function<void()> f = std::exchange(on_advertised_, nullptr)) f();
}

void RouteRegistry::resolve(std::string_view sid, Done done) {
  if (sid.size() < kTagLength) return done({});
  std::string tag(sid.substr(0, kTagLength));
  if (tag == tag_) return done(address_);
  auto now = timers_.now();
  if (auto it = cache_.find(tag); it != cache_.end() && it->second.until > now)
    return done(it->second.address);
  ++lookups_;
  std::string key = key_of(tag);
  std::string_view get[] = {"GET", key};
  auto alive = alive_;
  bool sent = redis_.command(get, [this, alive, tag, done](const redisReply* reply) {
    if (!*alive) return done({});
    std::string address;
    if (reply && reply->type == REDIS_REPLY_STRING) address.assign(reply->str, reply->len);
    if (!reply) return done({});  // Redis went away: nothing learnt
    if (cache_.size() >= kMaxCached) cache_.clear();
    cache_[tag] = {address, timers_.now() + (address.empty() ? kNegativeTtl : options_.ttl)};
    done(address);
  });
  if (!sent) done({});
}

void RouteRegistry::forget(std::string_view sid) {
  if (sid.size() >= kTagLength) cache_.erase(std::string(sid.substr(0, kTagLength)));
}

}  // namespace daheim::cluster
