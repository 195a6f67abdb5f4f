#include "cluster/redis_session_store.hpp"

#include <hiredis/hiredis.h>

#include <cstdio>
#include <random>

#include "cluster/session_codec.hpp"
#include "cluster/stream_broadcast.hpp"

namespace daheim::cluster {
namespace {

// KEYS: session, holder. ARGV: session text, ttl ms, holder, "1" to take it
// over. -> 1 written, 0 refused (another holder has it).
constexpr std::string_view kSaveScript = R"(
local h = redis.call('GET', KEYS[2])
if ARGV[4] ~= '1' and h and h ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1
)";

// KEYS: session, holder. ARGV: holder. -> 1 deleted, 0 refused.
constexpr std::string_view kForgetScript = R"(
local h = redis.call('GET', KEYS[2])
if h and h ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
)";

std::string random_instance() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string holder_key(const std::string& prefix, std::string_view pid) {
  return prefix + std::string(pid) + "#holder";
}

}  // namespace

struct RedisSessionStore::Restore {
  std::string nsp;
  std::string pid;
  std::string offset;
  RestoreCallback callback;
  std::string stream;
  StreamId from;
  socketio::SavedSession session;
};

RedisSessionStore::RedisSessionStore(StreamLog& log, RedisClient& redis, loop::TimerQueue& timers,
                                     const socketio::RecoveryOptions& options,
                                     std::string key_prefix)
    : log_(log),
      redis_(redis),
      timers_(timers),
      options_(options),
      prefix_(std::move(key_prefix)),
      instance_(random_instance()),
      refresh_timer_(timers, [this] { refresh(); }),
      deferred_timer_(timers, [this] {
        std::vector<std::function<void()>> fns = std::move(deferred_);
        deferred_.clear();
        for (auto& fn : fns) fn();
      }) {
  refresh_timer_.arm(options_.max_disconnection_duration / 4);
  log_.enable_window();
}

RedisSessionStore::~RedisSessionStore() {
  *alive_ = false;
}

// The StreamsAdapter logs the event (XADD) and the stream reader delivers
// it with its id as the offset, on every node alike.
void RedisSessionStore::append(const socketio::LoggedEvent& event, Deliver deliver) {
  deliver(socketio::encode_event(event.nsp, event.name, event.args, event.attachments), event.opts);
}

std::string RedisSessionStore::head(std::string_view nsp) const {
  return log_.cursor(log_.stream_of(nsp)).text();
}

void RedisSessionStore::write(std::vector<std::string> args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  ++pending_writes_;
  std::weak_ptr<bool> alive = alive_;
  if (!redis_.command(views, [this, alive](const redisReply*) {
        if (!alive.expired()) --pending_writes_;
      }))
    --pending_writes_;
}

RedisSessionStore::Live& RedisSessionStore::live(const std::string& pid) {
  auto [it, fresh] = live_.try_emplace(pid);
  if (fresh) it->second.holder = instance_ + ":" + std::to_string(++next_holder_);
  return it->second;
}

void RedisSessionStore::write_session(const socketio::SavedSession& session, Live l,
                                      loop::Millis ttl) {
  ++stats_.saved;
  std::string key = prefix_ + session.pid;
  std::string holder = holder_key(prefix_, session.pid);
  std::string text = encode_session(session);
  std::string px = std::to_string(ttl.count());
  std::string_view args[] = {"EVAL",   kSaveScript,        "2", key, holder, text, px,
                             l.holder, l.claim ? "1" : "0"};
  ++pending_writes_;
  std::weak_ptr<bool> alive = alive_;
  std::string pid = session.pid;
  bool sent = redis_.command(args, [this, alive, pid, l](const redisReply* r) {
    if (alive.expired()) return;
    --pending_writes_;
    if (r == nullptr || r->type != REDIS_REPLY_INTEGER || r->integer != 0) return;
    ++stats_.stale_refused;
    // Another socket restored the session: stop refreshing it.
    if (auto it = live_.find(pid); it != live_.end() && it->second.holder == l.holder)
      live_.erase(it);
  });
  if (!sent) --pending_writes_;
}

void RedisSessionStore::save(socketio::SavedSession session) {
  Live l = live(session.pid);
  live_.erase(session.pid);
  write_session(session, l, options_.max_disconnection_duration);
}

// A connected socket's copy lives 1.5 × maxDisconnectionDuration and is
// refreshed when half of that is left, so it outlives the node by at least
// maxDisconnectionDuration.
void RedisSessionStore::save_live(socketio::SavedSession session) {
  Live& l = live(session.pid);
  l.at = timers_.now();
  Live now = l;
  l.claim = false;
  write_session(session, now, options_.max_disconnection_duration * 3 / 2);
}

void RedisSessionStore::refresh() {
  refresh_timer_.arm(options_.max_disconnection_duration / 4);
  loop::TimePoint now = timers_.now();
  std::string ttl = std::to_string(options_.max_disconnection_duration.count() * 3 / 2);
  for (auto& [pid, l] : live_) {
    if (now - l.at < options_.max_disconnection_duration / 2) continue;
    l.at = now;
    write({"PEXPIRE", prefix_ + pid, ttl});
    write({"PEXPIRE", holder_key(prefix_, pid), ttl});
  }
}

void RedisSessionStore::forget(std::string_view pid) {
  std::string p(pid);
  Live l = live(p);
  live_.erase(p);
  std::string key = prefix_ + p;
  std::string holder = holder_key(prefix_, p);
  std::string_view args[] = {"EVAL", kForgetScript, "2", key, holder, l.holder};
  ++pending_writes_;
  std::weak_ptr<bool> alive = alive_;
  bool sent = redis_.command(args, [this, alive](const redisReply* r) {
    if (alive.expired()) return;
    --pending_writes_;
    if (r != nullptr && r->type == REDIS_REPLY_INTEGER && r->integer == 0) ++stats_.stale_refused;
  });
  if (!sent) --pending_writes_;
}

// This socket's writes take the session over: a fresh holder, and the next
// write claims it whoever held it.
void RedisSessionStore::restored(std::string_view pid) {
  std::string p(pid);
  live_.erase(p);
  live(p).claim = true;
}

void RedisSessionStore::later(std::function<void()> fn) {
  deferred_.push_back(std::move(fn));
  if (!deferred_timer_.armed()) deferred_timer_.arm(loop::Millis(0));
}

void RedisSessionStore::fail(const std::shared_ptr<Restore>& r) {
  ++stats_.restore_failed;
  r->callback(std::nullopt);
}

void RedisSessionStore::restore(std::string_view nsp, std::string_view pid, std::string_view offset,
                                RestoreCallback callback) {
  auto r = std::make_shared<Restore>();
  r->nsp = nsp;
  r->pid = pid;
  r->offset = offset;
  r->callback = std::move(callback);
  r->stream = log_.stream_of(nsp);
  std::string key = prefix_ + r->pid;
  std::string_view args[] = {"GET", key};
  std::weak_ptr<bool> alive = alive_;
  if (!redis_.command(args, [this, alive, r](const redisReply* reply) {
        if (!alive.expired()) on_session(r, reply);
      }))
    later([this, r] { fail(r); });
}

// The session, then its offset: a volatile event's string stands for the
// log's head when it was sent; no offset for the head at connect (the
// client got no logged event, socket.io #5538).
void RedisSessionStore::on_session(std::shared_ptr<Restore> r, const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_STRING) return fail(r);
  std::optional<socketio::SavedSession> s =
      decode_session(std::string_view(reply->str, reply->len));
  if (!s || s->pid != r->pid || (!s->nsp.empty() && s->nsp != r->nsp)) return fail(r);
  s->nsp = r->nsp;
  std::string_view offset = r->offset;
  if (!offset.empty() && s->volatile_tail != 0 && socketio::tail_hash(offset) == s->volatile_tail)
    offset = s->volatile_tail_offset;
  if (offset.empty()) offset = s->start_offset;
  std::optional<StreamId> from = parse_stream_id(offset);
  if (!from) return fail(r);
  r->from = *from;
  r->session = std::move(*s);
  read_missed(r);
}

// Once the reader is past the offset: the entries after it up to the
// reader's cursor that the session's rooms select, each with its offset,
// from the window when the offset is in it.
void RedisSessionStore::read_missed(std::shared_ptr<Restore> r) {
  std::weak_ptr<bool> alive = alive_;
  log_.when_read(r->stream, r->from, [this, alive, r](bool ready) {
    if (alive.expired()) return;
    if (!ready) return fail(r);
    auto missed = log_.window_missed(r->stream, r->nsp, r->from, r->session.rooms);
    if (missed) {
      ++stats_.window_hits;
      return answer(r, std::move(*missed));
    }
    ++stats_.window_misses;
    if (r->from == StreamId{}) return read_missed_from_redis(r);  // the stream was empty then
    log_.exists(r->stream, r->from, [this, alive, r](bool found, bool ok) {
      if (alive.expired()) return;
      if (!found || !ok) return fail(r);
      read_missed_from_redis(r);
    });
  });
}

void RedisSessionStore::read_missed_from_redis(std::shared_ptr<Restore> r) {
  std::weak_ptr<bool> alive = alive_;
  std::size_t max = 2 * log_.options().max_len + log_.options().read_count;
  log_.range_to_cursor(
      r->stream, r->from, max, [this, alive, r](std::vector<StreamEntry> entries, bool ok) {
        if (alive.expired()) return;
        if (!ok) return fail(r);
        std::vector<socketio::EncodedPacket> missed;
        for (const StreamEntry& e : entries) {
          StreamBroadcast b;
          if (e.nsp != r->nsp || e.type != 3 || !decode_stream_broadcast(e, b)) continue;
          if (!takes_offset(b) || !socketio::session_selects(b.opts, r->session.rooms)) continue;
          missed.push_back(stream_packet(r->nsp, b, e.id));
        }
        answer(r, std::move(missed));
      });
}

void RedisSessionStore::answer(const std::shared_ptr<Restore>& r,
                               std::vector<socketio::EncodedPacket> missed) {
  ++stats_.restored;
  r->callback(socketio::RestoredSession{std::move(r->session), std::move(missed)});
}

}  // namespace daheim::cluster
