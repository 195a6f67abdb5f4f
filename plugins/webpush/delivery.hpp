// Delivery of Web Push messages: a bounded queue drained by worker threads
// (encryption, VAPID signing and the HTTPS POST never run on the loop),
// answers handled back on the loop: 2xx delivered; 404/410 the subscription
// is gone; 429, 5xx and network errors retried with a capped exponential
// backoff (Retry-After honoured up to the cap); any other answer failed.
#pragma once

#include "push_service.hpp"
#include "subscription.hpp"
#include "vapid.hpp"

#include <daheim/plugin.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace webpush {

struct Message {
  std::string user;
  Subscription subscription;
  std::string payload;             // the plaintext (typically JSON text)
  int64_t ttl_s = 0;               // TTL header: how long the push service keeps it
  std::string urgency = "normal";  // very-low, low, normal, high
  std::string topic;               // optional Topic header (replaces a pending one)
  unsigned attempt = 0;            // POSTs made so far
};

enum class Verdict { Delivered, Gone, Retry, Failed };

// What an answer means for the message (RFC 8030 §5 and §8.3, RFC 8292).
Verdict classify(const PushResponse& response);

// The wait before retry number `attempt` (1 = the first retry): base * 2^(attempt-1),
// at least Retry-After when given, never above `cap`.
std::chrono::milliseconds backoff(unsigned attempt, std::chrono::milliseconds base,
                                  std::chrono::milliseconds cap,
                                  std::optional<int64_t> retry_after_s);

// The request for one message: encrypted body and headers; nullopt with
// `error` when it cannot be built (bad keys, payload too long).
std::optional<PushRequest> build_request(const Message& m, const Vapid& vapid, int64_t now_s,
                                         int64_t jwt_lifetime_s, std::string& error);

struct DeliveryConfig {
  unsigned workers = 2;
  std::size_t max_queue = 10000;  // messages waiting, in flight or waiting to retry
  unsigned max_attempts = 5;
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_max{60000};
  int64_t jwt_lifetime_s = 12 * 3600;  // RFC 8292: at most 24 hours
  HttpOptions http;
};

struct Counters {
  uint64_t accepted = 0;   // enqueued
  uint64_t dropped = 0;    // refused: the queue was full
  uint64_t delivered = 0;  // 2xx
  uint64_t gone = 0;       // 404/410: subscription removed
  uint64_t retried = 0;    // retries scheduled
  uint64_t failed = 0;     // given up (other 4xx, attempts exhausted, bad keys)
};

class Delivery {
 public:
  // Called on the loop when the push service says a subscription is gone.
  using GoneFn = std::function<void(const std::string& user, const std::string& endpoint)>;

  Delivery(const dhl::Host& host, const Vapid& vapid, DeliveryConfig config, GoneFn on_gone);
  ~Delivery();
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  // [loop] false: the queue is full and the message was dropped (counted).
  bool enqueue(Message m);

  const Counters& counters() const { return counters_; }
  std::size_t depth() const { return depth_; }
  std::size_t waiting_retry() const { return retries_.size(); }

 private:
  void submit(Message m);
  void finished(Message m, const PushResponse& r);
  void retry_later(Message m, std::chrono::milliseconds delay);
  void on_timer();

  const dhl::Host& host_;
  const Vapid& vapid_;
  DeliveryConfig config_;
  GoneFn on_gone_;
  Counters counters_;
  std::size_t depth_ = 0;
  std::multimap<uint64_t, Message> retries_;  // due (loop ms) -> message
  dhl::Timer timer_;
  std::shared_ptr<std::atomic<bool>> alive_;
  dhl::WorkerPool pool_;  // last: its threads are joined first
};

}  // namespace webpush
