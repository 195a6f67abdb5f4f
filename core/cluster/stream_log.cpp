#include "cluster/stream_log.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>

#include "log/log.hpp"

namespace daheim::cluster {
namespace {

// Entries per XREVRANGE while a window is filled at start.
constexpr std::size_t kBackfillPage = 1000;

std::string_view text(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

}  // namespace

// A window's first fill: the stream's newest entries, newest first.
struct Backfill {
  std::string stream;
  std::vector<StreamEntry> newest_first;
  std::size_t bytes = 0;  // raw, approximately
  std::size_t want = 1;   // entries (the cursor only, without a window)
};

struct RangeState {
  std::string stream;
  StreamId last;
  std::size_t max;
  std::size_t steps = 0;
  std::vector<StreamEntry> entries;
  StreamLog::Range done;
};

bool read_stream_entry(const redisReply& r, StreamEntry& out) {
  if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 || r.element[0]->type != REDIS_REPLY_STRING)
    return false;
  out = StreamEntry{};
  out.id = std::string(text(r.element[0]));
  const redisReply* f = r.element[1];
  if (f->type != REDIS_REPLY_ARRAY) return f->type == REDIS_REPLY_NIL;
  for (std::size_t i = 0; i + 1 < f->elements; i += 2) {
    std::string_view name = text(f->element[i]), value = text(f->element[i + 1]);
    if (name == "uid") {
      out.uid = value;
    } else if (name == "nsp") {
      out.nsp = value;
    } else if (name == "type") {
      int64_t t = 0;
      for (char c : value) t = (c >= '0' && c <= '9' && t < 1000) ? t * 10 + (c - '0') : -1;
      out.type = value.empty() ? -1 : t;
    } else if (name == "data") {
      out.data = value;
    }
  }
  return true;
}

StreamLog::StreamLog(loop::Reactor& reactor, loop::TimerQueue& timers, RedisClient& redis,
                     const RedisClientOptions& redis_options, StreamLogOptions options)
    : timers_(timers),
      redis_(redis),
      options_(std::move(options)),
      redis_options_(redis_options),
      retry_(timers, [this] { reader_->open(); }),
      rng_(std::random_device{}()) {
  reader_ = std::make_unique<RedisConnection>(
      reactor, timers, redis_options_.endpoint, redis_options_.limits, false,
      RedisConnection::Handlers{[this] { on_reader_ready(); },
                                [this](const std::string& why) { on_reader_lost(why); }, nullptr});
  for (std::size_t i = 0; i < options_.stream_count && options_.stream_count > 1; ++i)
    cursors_.emplace(options_.stream_name + "-" + std::to_string(i), StreamId{});
  if (options_.stream_count <= 1) cursors_.emplace(options_.stream_name, StreamId{});
}

StreamLog::~StreamLog() {
  *alive_ = false;
  stop();
}

std::string StreamLog::stream_of(std::string_view nsp) const {
  return stream_for(options_.stream_name, options_.stream_count, nsp);
}

void StreamLog::listen(const std::string& nsp, StreamListener* listener) {
  listeners_[nsp] = listener;
  cursors_.emplace(stream_of(nsp), StreamId{});  // "base--N" (a negative hash) too
}

void StreamLog::unlisten(const std::string& nsp) {
  listeners_.erase(nsp);
}

void StreamLog::start() {
  if (running_) return;
  running_ = true;
  reader_->open();
}

void StreamLog::stop() {
  running_ = false;
  retry_.disarm();
  reader_->close();
}

void StreamLog::on_reader_ready() {
  attempt_ = 0;
  if (resolved_)
    read_next();
  else
    resolve_cursors();
}

void StreamLog::on_reader_lost(const std::string& why) {
  ++stats_.reader_errors;
  if (attempt_ == 0) log::warning("cluster: Redis stream reader lost: {}", why);
  if (!running_) return;
  long long delay = redis_options_.reconnect_min.count();
  for (unsigned i = 0; i < attempt_ && delay < redis_options_.reconnect_max.count(); ++i)
    delay *= 2;
  delay = std::min<long long>(delay, redis_options_.reconnect_max.count());
  std::uniform_int_distribution<long long> jitter(delay / 2, delay);
  ++attempt_;
  retry_.arm(loop::Millis(jitter(rng_)));
}

// The newest id of each stream, so that the first XREAD starts from a
// concrete id (entries added meanwhile are read, none from before); with a
// window, the newest entries too, in pages from the newest back until the
// window is full or the stream's first entry was read.
void StreamLog::resolve_cursors() {
  auto left = std::make_shared<std::size_t>(cursors_.size());
  for (const auto& kv : cursors_) {
    auto b = std::make_shared<Backfill>();
    b->stream = kv.first;
    if (windowed_) b->want = options_.window.max_entries;
    backfill(b, left);
  }
}

void StreamLog::backfill(std::shared_ptr<Backfill> b, std::shared_ptr<std::size_t> left) {
  std::string end = b->newest_first.empty() ? "+" : "(" + b->newest_first.back().id;
  std::size_t count = std::min(b->want - b->newest_first.size(), kBackfillPage);
  std::string count_text = std::to_string(count);
  std::string_view args[] = {"XREVRANGE", b->stream, end, "-", "COUNT", count_text};
  std::weak_ptr<bool> alive = alive_;
  reader_->command(args, [this, alive, b, left, count](const redisReply* r) {
    if (alive.expired() || r == nullptr) return;  // lost: resolved again on reconnect
    bool ok = r->type == REDIS_REPLY_ARRAY;
    for (std::size_t i = 0; ok && i < r->elements; ++i) {
      StreamEntry e;
      if (!read_stream_entry(*r->element[i], e)) continue;
      b->bytes += sizeof(StreamEntry) + e.data.size();
      b->newest_first.push_back(std::move(e));
    }
    bool whole = ok && r->elements < count;
    bool full = b->newest_first.size() >= b->want || b->bytes >= options_.window.max_bytes;
    if (ok && !whole && !full) return backfill(b, left);
    backfilled(*b, whole);
    if (--*left != 0) return;
    resolved_ = true;
    wake_waiters();
    read_next();
  });
}

void StreamLog::backfilled(const Backfill& b, bool whole) {
  if (!b.newest_first.empty())
    if (auto id = parse_stream_id(b.newest_first.front().id)) cursors_[b.stream] = *id;
  if (!windowed_) return;
  StreamWindow& w = windows_.try_emplace(b.stream, options_.window).first->second;
  w.reset(whole);
  for (auto e = b.newest_first.rbegin(); e != b.newest_first.rend(); ++e) w.add(*e);
}

void StreamLog::enable_window() {
  windowed_ = options_.window.max_entries > 0;
}

std::optional<std::vector<socketio::EncodedPacket>> StreamLog::window_missed(
    const std::string& stream, std::string_view nsp, StreamId from,
    const std::vector<std::string>& rooms) const {
  if (!windowed_ || !resolved_) return std::nullopt;
  auto it = windows_.find(stream);
  if (it == windows_.end()) return std::nullopt;
  return it->second.missed(nsp, from, rooms);
}

std::size_t StreamLog::window_entries() const {
  std::size_t n = 0;
  for (const auto& kv : windows_) n += kv.second.size();
  return n;
}

std::size_t StreamLog::window_bytes() const {
  std::size_t n = 0;
  for (const auto& kv : windows_) n += kv.second.bytes();
  return n;
}

void StreamLog::read_next() {
  if (!running_ || !reader_->ready()) return;
  std::vector<std::string> ids;
  std::string block = std::to_string(options_.block.count());
  std::string count = std::to_string(options_.read_count);
  std::vector<std::string_view> args = {"XREAD", "BLOCK", block, "COUNT", count, "STREAMS"};
  for (const auto& kv : cursors_) args.push_back(kv.first);
  for (const auto& kv : cursors_) ids.push_back(kv.second.text());
  for (const std::string& id : ids) args.push_back(id);
  std::weak_ptr<bool> alive = alive_;
  reader_->command(args, [this, alive](const redisReply* r) {
    if (!alive.expired() && r != nullptr) on_read(r);
  });
}

void StreamLog::on_read(const redisReply* r) {
  if (r->type == REDIS_REPLY_ERROR) {
    ++stats_.reader_errors;
    log::warning("cluster: XREAD refused: {}", std::string_view(r->str, r->len));
  } else if (r->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < r->elements; ++i) {
      const redisReply* s = r->element[i];
      if (s->type != REDIS_REPLY_ARRAY || s->elements != 2) continue;
      auto cursor = cursors_.find(std::string(text(s->element[0])));
      if (cursor == cursors_.end() || s->element[1]->type != REDIS_REPLY_ARRAY) continue;
      for (std::size_t k = 0; k < s->element[1]->elements; ++k) {
        StreamEntry e;
        if (!read_stream_entry(*s->element[1]->element[k], e)) continue;
        auto id = parse_stream_id(e.id);
        if (!id || *id <= cursor->second) continue;
        cursor->second = *id;
        ++stats_.read;
        if (windowed_) windows_.try_emplace(cursor->first, options_.window).first->second.add(e);
        dispatch(e);
      }
    }
    wake_waiters();
  }
  read_next();
}

void StreamLog::dispatch(const StreamEntry& entry) {
  if (entry.nsp.empty()) return;
  auto it = listeners_.find(entry.nsp);
  if (it != listeners_.end()) it->second->on_stream_entry(entry);
}

void StreamLog::add(const std::string& stream, std::span<const std::string_view> fields,
                    Added done) {
  std::string max_len = std::to_string(options_.max_len);
  std::vector<std::string_view> args = {"XADD", stream, "MAXLEN", "~", max_len, "*"};
  args.insert(args.end(), fields.begin(), fields.end());
  auto cb = std::make_shared<Added>(std::move(done));
  bool sent = redis_.command(args, [this, cb](const redisReply* r) {
    std::string_view id = r != nullptr && r->type == REDIS_REPLY_STRING ? text(r) : "";
    ++(id.empty() ? stats_.add_failed : stats_.added);
    (*cb)(id);
  });
  if (!sent) {
    ++stats_.add_failed;
    (*cb)("");
  }
}

StreamId StreamLog::cursor(const std::string& stream) const {
  auto it = cursors_.find(stream);
  return it == cursors_.end() ? StreamId{} : it->second;
}

void StreamLog::when_read(const std::string& stream, StreamId id, std::function<void(bool)> ready) {
  if (resolved_ && cursor(stream) >= id) return ready(true);
  auto w = std::make_unique<Waiter>();
  Waiter* raw = w.get();
  w->stream = stream;
  w->id = id;
  w->ready = std::move(ready);
  w->timer = std::make_unique<loop::Timer>(timers_, [this, raw] {
    auto it = std::find_if(waiters_.begin(), waiters_.end(),
                           [&](const auto& p) { return p.get() == raw; });
    if (it == waiters_.end()) return;
    std::unique_ptr<Waiter> gone = std::move(*it);
    waiters_.erase(it);
    gone->ready(false);
  });
  w->timer->arm(options_.wait_timeout);
  waiters_.push_back(std::move(w));
}

void StreamLog::wake_waiters() {
  std::vector<std::unique_ptr<Waiter>> ready;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (resolved_ && cursor((*it)->stream) >= (*it)->id) {
      ready.push_back(std::move(*it));
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& w : ready) w->ready(true);
}

void StreamLog::exists(const std::string& stream, StreamId id,
                       std::function<void(bool found, bool ok)> done) {
  std::string at = id.text();
  std::string_view args[] = {"XRANGE", stream, at, at};
  auto cb = std::make_shared<std::function<void(bool, bool)>>(std::move(done));
  bool sent = redis_.command(args, [cb](const redisReply* r) {
    bool ok = r != nullptr && r->type == REDIS_REPLY_ARRAY;
    (*cb)(ok && r->elements == 1, ok);
  });
  if (!sent) (*cb)(false, false);
}

void StreamLog::range_to_cursor(const std::string& stream, StreamId from, std::size_t max,
                                Range done) {
  auto state = std::make_shared<RangeState>();
  state->stream = stream;
  state->last = from;
  state->max = max;
  state->done = std::move(done);
  range_step(state);
}

// XRANGE (last + COUNT n until a short page; then, if the reader got past
// what the pages covered meanwhile, once more from there. Entries after the
// cursor are left to the reader.
void StreamLog::range_step(std::shared_ptr<RangeState> state) {
  std::string start = "(" + state->last.text();
  std::string count = std::to_string(options_.read_count);
  std::string_view args[] = {"XRANGE", state->stream, start, "+", "COUNT", count};
  std::weak_ptr<bool> alive = alive_;
  bool sent = redis_.command(args, [this, alive, state](const redisReply* r) {
    if (alive.expired()) return;
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return state->done({}, false);
    for (std::size_t i = 0; i < r->elements; ++i) {
      StreamEntry e;
      if (!read_stream_entry(*r->element[i], e)) continue;
      if (auto id = parse_stream_id(e.id)) state->last = *id;
      state->entries.push_back(std::move(e));
    }
    if (state->entries.size() > state->max || ++state->steps > 2 + state->max)
      return state->done({}, false);
    StreamId cursor = this->cursor(state->stream);
    if (r->elements >= options_.read_count || cursor > state->last) return range_step(state);
    std::erase_if(state->entries, [&](const StreamEntry& e) {
      auto id = parse_stream_id(e.id);
      return !id || *id > cursor;
    });
    state->done(std::move(state->entries), true);
  });
  if (!sent) state->done({}, false);
}

}  // namespace daheim::cluster
