#include "socketio/in_memory_session_store.hpp"

#include <algorithm>

#include "engineio/sid.hpp"

namespace daheim::socketio {
namespace {

constexpr std::string_view kDigits =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
constexpr std::size_t kEpochLength = 4;
constexpr std::size_t kMaxSeqDigits = 11;  // 64 bits in base 64

int digit_value(char c) {
  std::size_t i = kDigits.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

// What one logged event holds, roughly: its frames (and their control
// blocks), its rooms and the entry itself.
std::size_t memory_of(const EncodedPacket& p, const BroadcastOptions& opts, std::size_t entry) {
  constexpr std::size_t kPerFrame = sizeof(engineio::Frame) + 32;
  std::size_t n = entry + p.text->bytes.capacity() + kPerFrame;
  for (const engineio::FramePtr& a : p.attachments) n += a->bytes.capacity() + kPerFrame;
  for (const std::string& r : opts.rooms) n += sizeof(std::string) + r.size();
  for (const std::string& r : opts.except) n += sizeof(std::string) + r.size();
  return n;
}

}  // namespace

InMemorySessionStore::InMemorySessionStore(loop::TimerQueue& timers, const RecoveryOptions& options)
    : timers_(timers),
      options_(options),
      epoch_(engineio::generate_id().substr(0, kEpochLength)),
      answer_timer_(timers, [this] { answer_requests(); }) {}

InMemorySessionStore::~InMemorySessionStore() = default;

std::string InMemorySessionStore::make_offset(uint64_t seq) const {
  char digits[kMaxSeqDigits];
  std::size_t n = 0;
  do {
    digits[n++] = kDigits[seq & 63];
    seq >>= 6;
  } while (seq != 0);
  std::string out = epoch_;
  while (n > 0) out += digits[--n];
  return out;
}

std::optional<uint64_t> InMemorySessionStore::parse_offset(std::string_view offset) const {
  if (offset.size() <= kEpochLength || offset.size() > kEpochLength + kMaxSeqDigits ||
      offset.substr(0, kEpochLength) != epoch_)
    return std::nullopt;
  uint64_t seq = 0;
  for (char c : offset.substr(kEpochLength)) {
    int d = digit_value(c);
    if (d < 0 || seq > (UINT64_MAX >> 6)) return std::nullopt;
    seq = (seq << 6) | static_cast<uint64_t>(d);
  }
  return seq;
}

void InMemorySessionStore::append(const LoggedEvent& event, Deliver deliver) {
  loop::TimePoint now = timers_.now();
  uint64_t seq = next_seq_++;
  EncodedPacket packet =
      encode_logged_event(event.nsp, event.name, event.args, event.attachments, make_offset(seq));
  packet.logged = true;
  std::size_t bytes = memory_of(packet, event.opts, sizeof(Entry));
  log_.push_back({seq, now, bytes, std::string(event.nsp), event.opts, packet});
  log_bytes_ += bytes;
  ++stats_.logged;
  trim_log(now);
  deliver(packet, event.opts);
}

std::string InMemorySessionStore::head(std::string_view) const {
  return next_seq_ == 1 ? std::string() : make_offset(next_seq_ - 1);
}

void InMemorySessionStore::trim_log(loop::TimePoint now) {
  while (!log_.empty() &&
         (log_.size() > options_.max_log_packets || log_bytes_ > options_.max_log_bytes ||
          now - log_.front().at > options_.max_disconnection_duration)) {
    dropped_through_ = log_.front().seq;
    log_bytes_ -= log_.front().bytes;
    log_.pop_front();
    ++stats_.log_dropped;
  }
}

void InMemorySessionStore::save(SavedSession session) {
  loop::TimePoint now = timers_.now();
  trim_sessions(now);
  while (sessions_.size() >= options_.max_sessions && !by_age_.empty()) {
    auto [at, pid] = std::move(by_age_.front());
    by_age_.pop_front();
    auto it = sessions_.find(pid);
    if (it != sessions_.end() && it->second.at == at) {
      sessions_.erase(it);
      ++stats_.evicted;
    }
  }
  if (options_.max_sessions == 0) return;
  std::string pid = session.pid;
  by_age_.emplace_back(now, pid);
  sessions_.insert_or_assign(std::move(pid), Stored{std::move(session), now});
  ++stats_.saved;
  if (by_age_.size() > 2 * sessions_.size() + 64) {  // forgotten sessions left stale entries
    std::erase_if(by_age_, [&](const auto& e) {
      auto it = sessions_.find(e.second);
      return it == sessions_.end() || it->second.at != e.first;
    });
  }
}

void InMemorySessionStore::trim_sessions(loop::TimePoint now) {
  while (!by_age_.empty() && now - by_age_.front().first > options_.max_disconnection_duration) {
    auto it = sessions_.find(by_age_.front().second);
    if (it != sessions_.end() && it->second.at == by_age_.front().first) {
      sessions_.erase(it);
      ++stats_.expired;
    }
    by_age_.pop_front();
  }
}

void InMemorySessionStore::restore(std::string_view nsp, std::string_view pid,
                                   std::string_view offset, RestoreCallback callback) {
  requests_.push_back(
      {std::string(nsp), std::string(pid), std::string(offset), std::move(callback)});
  if (!answer_timer_.armed()) answer_timer_.arm(loop::Millis(0));
}

void InMemorySessionStore::answer_requests() {
  std::vector<Request> requests = std::move(requests_);
  requests_.clear();
  for (Request& r : requests) r.callback(lookup(r));
}

std::optional<RestoredSession> InMemorySessionStore::lookup(const Request& request) {
  loop::TimePoint now = timers_.now();
  trim_sessions(now);
  trim_log(now);
  auto it = sessions_.find(request.pid);
  if (it == sessions_.end() || it->second.session.nsp != request.nsp) {
    ++stats_.restore_unknown;
    return std::nullopt;
  }
  const SavedSession& session = it->second.session;
  std::string_view offset = request.offset;
  if (!offset.empty() && session.volatile_tail != 0 && tail_hash(offset) == session.volatile_tail)
    offset = session.volatile_tail_offset;  // a volatile event's string, not an offset
  if (offset.empty()) offset = session.start_offset;
  std::optional<uint64_t> seq = offset.empty() ? std::optional<uint64_t>(0) : parse_offset(offset);
  if (!seq || *seq >= next_seq_ || *seq < dropped_through_) {
    ++stats_.restore_bad_offset;
    return std::nullopt;
  }
  RestoredSession out{session, {}};
  auto first = std::upper_bound(log_.begin(), log_.end(), *seq,
                                [](uint64_t s, const Entry& e) { return s < e.seq; });
  for (auto e = first; e != log_.end(); ++e)
    if (e->nsp == request.nsp && session_selects(e->opts, session.rooms))
      out.missed.push_back(e->packet);
  ++stats_.restored;
  return out;
}

void InMemorySessionStore::forget(std::string_view pid) {
  auto it = sessions_.find(std::string(pid));
  if (it != sessions_.end()) sessions_.erase(it);
}

}  // namespace daheim::socketio
