#include "transport/handshake_budget.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace daheim::transport {

HandshakeBudget::HandshakeBudget(HandshakeBudgetOptions options, loop::TimePoint now)
    : options_(options), tokens_(options.burst), last_(now) {}

void HandshakeBudget::refill(loop::TimePoint now) {
  if (now <= last_) return;
  double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min<double>(options_.burst, tokens_ + seconds * options_.per_second);
  last_ = now;
}

bool HandshakeBudget::take() {
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  ++stats_.admitted;
  return true;
}

HandshakeBudget::Verdict HandshakeBudget::check(loop::TimePoint now) {
  if (options_.per_second == 0) return Verdict::Admit;
  refill(now);
  if (waiting_.empty() && tokens_ >= 1) return Verdict::Admit;
  if (options_.max_wait.count() == 0 || waiting_.size() >= options_.max_waiting)
    return Verdict::Refuse;
  return Verdict::Wait;
}

HandshakeBudget::Verdict HandshakeBudget::request(uint64_t id, loop::TimePoint now) {
  Verdict v = check(now);
  if (v == Verdict::Admit) {
    if (options_.per_second != 0) take();
  } else if (v == Verdict::Wait) {
    waiting_.emplace(id, now + options_.max_wait);
    ++stats_.waited;
  } else {
    ++stats_.refused_full;
  }
  return v;
}

void HandshakeBudget::cancel(uint64_t id) {
  waiting_.erase(id);
}

HandshakeBudget::Released HandshakeBudget::release(loop::TimePoint now) {
  Released out;
  refill(now);
  while (!waiting_.empty()) {
    auto first = waiting_.begin();
    if (take()) {
      out.admitted.push_back(first->first);
    } else if (first->second <= now) {
      out.expired.push_back(first->first);
      ++stats_.refused_expired;
    } else {
      break;
    }
    waiting_.erase(first);
  }
  return out;
}

std::optional<loop::Millis> HandshakeBudget::next_release(loop::TimePoint now) {
  if (waiting_.empty()) return std::nullopt;
  refill(now);
  double need = std::max(0.0, 1.0 - tokens_);
  auto token = loop::Millis(static_cast<int64_t>(std::ceil(need * 1000.0 / options_.per_second)));
  auto deadline = std::chrono::ceil<loop::Millis>(waiting_.begin()->second - now);
  return std::max(loop::Millis(0), std::min(token, deadline));
}

uint32_t HandshakeBudget::retry_after_seconds() const {
  if (options_.per_second == 0) return 1;
  double seconds = static_cast<double>(waiting_.size() + 1) / options_.per_second;
  return std::max<uint32_t>(1, static_cast<uint32_t>(std::ceil(seconds)));
}

}  // namespace daheim::transport
