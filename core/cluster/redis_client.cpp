#include "cluster/redis_client.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>

#include "log/log.hpp"

namespace daheim::cluster {
namespace {

constexpr std::string_view kSubscribe[RedisClient::kKinds] = {"SUBSCRIBE", "PSUBSCRIBE",
                                                              "SSUBSCRIBE"};
constexpr std::string_view kUnsubscribe[RedisClient::kKinds] = {"UNSUBSCRIBE", "PUNSUBSCRIBE",
                                                                "SUNSUBSCRIBE"};

std::string_view text(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

}  // namespace

RedisClient::RedisClient(loop::Reactor& reactor, loop::TimerQueue& timers,
                         RedisClientOptions options)
    : options_(std::move(options)),
      cmd_link_(timers, [this] { cmd_link_.conn->open(); }),
      sub_link_(timers, [this] { sub_link_.conn->open(); }),
      rng_(std::random_device{}()) {
  cmd_link_.conn = std::make_unique<RedisConnection>(
      reactor, timers, options_.endpoint, options_.limits, false,
      RedisConnection::Handlers{
          [this] { on_cmd_ready(); },
          [this](const std::string& why) { on_lost(cmd_link_, "command", why); }, nullptr});
  sub_link_.conn = std::make_unique<RedisConnection>(
      reactor, timers, options_.endpoint, options_.limits, true,
      RedisConnection::Handlers{
          [this] { on_sub_ready(); },
          [this](const std::string& why) { on_lost(sub_link_, "subscriber", why); },
          [this](const redisReply& r) { on_push(r); }});
}

RedisClient::~RedisClient() {
  stop();
}

void RedisClient::start() {
  if (running_) return;
  running_ = true;
  cmd_link_.conn->open();
  sub_link_.conn->open();
}

void RedisClient::stop() {
  running_ = false;
  for (Link* l : {&cmd_link_, &sub_link_}) {
    l->retry.disarm();
    l->conn->close();
  }
}

void RedisClient::notify_state() {
  bool now = connected();
  if (now == last_state_) return;
  last_state_ = now;
  if (now) log::notice("cluster: connected to Redis at {}", options_.endpoint.address.describe());
  if (on_state_) on_state_(now);
}

void RedisClient::on_cmd_ready() {
  cmd_link_.attempt = 0;
  cmd_link_.was_up = true;
  flush_buffered();
  notify_state();
}

void RedisClient::on_sub_ready() {
  sub_link_.attempt = 0;
  sub_link_.was_up = true;
  for (std::size_t k = 0; k < kKinds; ++k)
    for (const std::string& ch : wanted_[k]) send_subscription(static_cast<Kind>(k), ch, true);
  notify_state();
}

void RedisClient::on_lost(Link& link, const char* which, const std::string& why) {
  if (link.was_up || link.attempt == 0)
    log::warning("cluster: Redis {} connection to {} lost: {}", which,
                 options_.endpoint.address.describe(), why);
  link.was_up = false;
  notify_state();
  if (running_) schedule_retry(link);
}

void RedisClient::schedule_retry(Link& link) {
  auto lo = options_.reconnect_min.count();
  auto hi = std::max(lo, options_.reconnect_max.count());
  long long delay = lo;
  for (unsigned i = 0; i < link.attempt && delay < hi; ++i) delay *= 2;
  delay = std::min<long long>(delay, hi);
  // Full jitter over the upper half: nodes that lost Redis together spread out.
  std::uniform_int_distribution<long long> jitter(delay / 2, delay);
  ++link.attempt;
  ++stats_.reconnects;
  link.retry.arm(loop::Millis(jitter(rng_)));
}

void RedisClient::write_publish(std::string_view channel, std::string_view payload, bool sharded,
                                Published published) {
  std::string_view args[] = {sharded ? "SPUBLISH" : "PUBLISH", channel, payload};
  RedisConnection::ReplyCallback answer;
  if (published)
    answer = [published](const redisReply* r) {
      published(r != nullptr && r->type == REDIS_REPLY_INTEGER);
    };
  if (cmd_link_.conn->command(args, std::move(answer))) {
    ++stats_.published;
    return;
  }
  ++stats_.publish_dropped;
  if (published) published(false);
}

void RedisClient::publish(std::string_view channel, std::string_view payload, bool sharded,
                          Published published) {
  if (cmd_link_.conn->ready() && buffered_.empty())
    return write_publish(channel, payload, sharded, std::move(published));
  std::size_t size = channel.size() + payload.size();
  if (buffered_bytes_ + size > options_.publish_buffer_bytes) {
    ++stats_.publish_dropped;
    if (published) published(false);
    return;
  }
  buffered_bytes_ += size;
  buffered_.push_back({std::string(channel), std::string(payload), sharded, std::move(published)});
}

void RedisClient::flush_buffered() {
  while (!buffered_.empty() && cmd_link_.conn->ready()) {
    Publish p = std::move(buffered_.front());
    buffered_.pop_front();
    buffered_bytes_ -= p.channel.size() + p.payload.size();
    write_publish(p.channel, p.payload, p.sharded, std::move(p.published));
  }
}

bool RedisClient::command(std::span<const std::string_view> args,
                          RedisConnection::ReplyCallback callback) {
  return cmd_link_.conn->command(args, std::move(callback));
}

void RedisClient::send_subscription(Kind kind, std::string_view channel, bool on) {
  auto k = static_cast<std::size_t>(kind);
  std::string_view args[] = {on ? kSubscribe[k] : kUnsubscribe[k], channel};
  sub_link_.conn->push_command(args);
}

void RedisClient::subscribe(Kind kind, std::string_view channel) {
  auto& set = wanted_[static_cast<std::size_t>(kind)];
  if (!set.emplace(channel).second) return;
  if (sub_link_.conn->ready()) send_subscription(kind, channel, true);
}

void RedisClient::unsubscribe(Kind kind, std::string_view channel) {
  auto& set = wanted_[static_cast<std::size_t>(kind)];
  auto it = set.find(channel);
  if (it == set.end()) return;
  set.erase(it);
  if (sub_link_.conn->ready()) send_subscription(kind, channel, false);
}

std::size_t RedisClient::subscriptions() const {
  std::size_t n = 0;
  for (const auto& s : wanted_) n += s.size();
  return n;
}

void RedisClient::on_push(const redisReply& r) {
  if (r.type == REDIS_REPLY_ERROR) {
    log::warning("cluster: Redis refused a subscription: {}", std::string_view(r.str, r.len));
    return;
  }
  if (r.type != REDIS_REPLY_ARRAY || r.elements < 3) return;
  std::string_view kind = text(r.element[0]);
  if ((kind == "message" || kind == "smessage") && r.elements == 3) {
    ++stats_.received;
    if (on_message_)
      on_message_(kind == "message" ? Kind::Channel : Kind::Shard, text(r.element[1]), {},
                  text(r.element[2]));
  } else if (kind == "pmessage" && r.elements == 4) {
    ++stats_.received;
    if (on_message_)
      on_message_(Kind::Pattern, text(r.element[2]), text(r.element[1]), text(r.element[3]));
  }
}

}  // namespace daheim::cluster
