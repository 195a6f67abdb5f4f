#include "delivery.hpp"

#include <algorithm>
#include <ctime>

namespace webpush {

Verdict classify(const PushResponse& r) {
  if (r.status >= 200 && r.status < 300) return Verdict::Delivered;
  if (r.status == 404 || r.status == 410) return Verdict::Gone;
  if (r.status == 0 || r.status == 429 || (r.status >= 500 && r.status < 600))
    return Verdict::Retry;
  return Verdict::Failed;
}

std::chrono::milliseconds backoff(unsigned attempt, std::chrono::milliseconds base,
                                  std::chrono::milliseconds cap,
                                  std::optional<int64_t> retry_after_s) {
  std::chrono::milliseconds d = base;
  for (unsigned i = 1; i < attempt && d < cap; ++i) d *= 2;
  if (retry_after_s) {
    int64_t ra = std::min<int64_t>(*retry_after_s, cap.count() / 1000 + 1);
    d = std::max(d, std::chrono::milliseconds(ra * 1000));
  }
  return std::min(d, cap);
}

std::optional<PushRequest> build_request(const Message& m, const Vapid& vapid, int64_t now_s,
                                         int64_t jwt_lifetime_s, std::string& error) {
  std::optional<Bytes> body = encrypt(m.payload, m.subscription.keys, error);
  if (!body) return std::nullopt;
  std::optional<std::string> auth =
      vapid.authorization(m.subscription.endpoint, now_s + jwt_lifetime_s);
  if (!auth) {
    error = "cannot sign the VAPID token";
    return std::nullopt;
  }
  PushRequest req{m.subscription.endpoint, {}, std::move(*body)};
  req.headers = {"Content-Type: application/octet-stream",
                 "Content-Encoding: aes128gcm",
                 "TTL: " + std::to_string(m.ttl_s),
                 "Urgency: " + m.urgency,
                 "Authorization: " + *auth,
                 "Expect:"};  // no 100-continue round trip
  if (!m.topic.empty()) req.headers.push_back("Topic: " + m.topic);
  return req;
}

Delivery::Delivery(const dhl::Host& host, const Vapid& vapid, DeliveryConfig config, GoneFn on_gone)
    : host_(host),
      vapid_(vapid),
      config_(std::move(config)),
      on_gone_(std::move(on_gone)),
      timer_(host, [this] { on_timer(); }),
      alive_(std::make_shared<std::atomic<bool>>(true)),
      pool_(host, config_.workers) {}

Delivery::~Delivery() {
  // Answers of the requests still running are dropped from here on.
  alive_->store(false);
}

bool Delivery::enqueue(Message m) {
  if (depth_ >= config_.max_queue) {
    ++counters_.dropped;
    return false;
  }
  ++counters_.accepted;
  ++depth_;
  submit(std::move(m));
  return true;
}

void Delivery::submit(Message m) {
  ++m.attempt;
  pool_.run([this, alive = alive_, m = std::move(m)]() mutable {
    if (!alive->load()) return;  // stopping: what has not started is dropped
    std::string error;
    PushResponse r;
    std::optional<PushRequest> req = build_request(
        m, vapid_, static_cast<int64_t>(std::time(nullptr)), config_.jwt_lifetime_s, error);
    if (req) {
      r = post(*req, config_.http);
    } else {
      r.status = -1;  // not sent: no retry helps
      r.error = error;
    }
    host_.post([this, alive, m = std::move(m), r = std::move(r)]() mutable {
      if (alive->load()) finished(std::move(m), r);
    });
  });
}

void Delivery::finished(Message m, const PushResponse& r) {
  Verdict v = r.status < 0 ? Verdict::Failed : classify(r);
  std::string where = "user " + m.user + ", " + origin_of(m.subscription.endpoint);
  if (v == Verdict::Retry && m.attempt < config_.max_attempts) {
    ++counters_.retried;
    std::chrono::milliseconds d =
        backoff(m.attempt, config_.retry_base, config_.retry_max, r.retry_after_s);
    host_.info("push service answered " + (r.status ? std::to_string(r.status) : r.error) + " (" +
               where + "): retry " + std::to_string(m.attempt) + " in " +
               std::to_string(d.count()) + " ms");
    retry_later(std::move(m), d);
    return;
  }
  --depth_;
  switch (v) {
    case Verdict::Delivered:
      ++counters_.delivered;
      break;
    case Verdict::Gone:
      ++counters_.gone;
      host_.info("subscription gone (" + std::to_string(r.status) + ", " + where + "): removed");
      on_gone_(m.user, m.subscription.endpoint);
      break;
    case Verdict::Retry:
    case Verdict::Failed:
      ++counters_.failed;
      host_.warning("web push failed after " + std::to_string(m.attempt) + " attempt(s) (" + where +
                    "): " + (r.status > 0 ? "HTTP " + std::to_string(r.status) : r.error));
      break;
  }
}

void Delivery::retry_later(Message m, std::chrono::milliseconds delay) {
  uint64_t due = host_.now_ms() + static_cast<uint64_t>(delay.count());
  bool earliest = retries_.empty() || due < retries_.begin()->first;
  retries_.emplace(due, std::move(m));
  if (earliest) timer_.arm(delay);
}

void Delivery::on_timer() {
  uint64_t now = host_.now_ms();
  while (!retries_.empty() && retries_.begin()->first <= now) {
    Message m = std::move(retries_.begin()->second);
    retries_.erase(retries_.begin());
    submit(std::move(m));
  }
  if (!retries_.empty()) timer_.arm(std::chrono::milliseconds(retries_.begin()->first - now));
}

}  // namespace webpush
