// CONNECTs with a valid token, per user (auth.connectsPerSecondPerUser): a
// token bucket per user id refilled at `rate` per second up to `burst`. Every
// attempt with a valid token draws a token, refused ones too, so a client that
// keeps churning stays refused until it slows down. Users whose bucket is full
// again (a full bucket says no more than none) are swept out by sweep(), which
// the Authenticator calls every full_after() while the table is not empty, and
// each time the table has doubled since the last sweep: it holds about the
// users seen in the last burst/rate seconds, not every user ever seen (the
// soak's live heap grew with each new user). Loop thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "loop/timer.hpp"

namespace daheim::auth_middleware {

class ConnectRate {
 public:
  static constexpr std::size_t kMaxTracked = 100000;
  static constexpr std::size_t kFirstSweep = 1024;

  ConnectRate(uint32_t rate, uint32_t burst) : rate_(rate), burst_(burst) {}

  // True when user `id` may connect now (and draws a token).
  bool take(const std::string& id, loop::TimePoint now) {
    if (rate_ == 0) return true;
    if (buckets_.size() >= sweep_at_) sweep(now);
    auto [it, fresh] = buckets_.try_emplace(id, Bucket{static_cast<double>(burst_), now});
    Bucket& b = it->second;
    if (!fresh) b.tokens = level(b, now);
    b.last = now;
    b.tokens -= 1.0;
    return b.tokens >= 0;
  }

  // Users with a bucket.
  std::size_t tracked() const { return buckets_.size(); }
  // How long an empty bucket takes to fill (rate not 0).
  loop::Millis full_after() const {
    return loop::Millis((uint64_t{burst_} * 1000 + rate_ - 1) / rate_);
  }

  // Drops the full buckets (all of them past kMaxTracked) and gives back the bucket array of a
  // table that shrank; the next sweep on growth waits until the table has doubled.
  void sweep(loop::TimePoint now) {
    std::erase_if(buckets_, [&](const auto& kv) { return level(kv.second, now) >= burst_; });
    if (buckets_.size() >= kMaxTracked) buckets_.clear();
    buckets_.rehash(0);
    sweep_at_ = std::min(kMaxTracked, std::max(kFirstSweep, buckets_.size() * 2));
  }

 private:
  struct Bucket {
    double tokens;
    loop::TimePoint last;
  };

  double level(const Bucket& b, loop::TimePoint now) const {
    double seconds = std::chrono::duration<double>(now - b.last).count();
    return std::min<double>(burst_, b.tokens + std::max(0.0, seconds) * rate_);
  }

  uint32_t rate_;
  uint32_t burst_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::size_t sweep_at_ = kFirstSweep;
};

}  // namespace daheim::auth_middleware
