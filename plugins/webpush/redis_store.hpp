// Subscriptions in Redis (a cluster), through the host's connection (ABI
// 1.3): every node sees every user's subscriptions. Keys under `prefix`
// (config redisKey):
//   <prefix>#u#<user>   hash: endpoint -> the subscription's JSON
//   <prefix>#o#<user>   sorted set: endpoint by age (for the per-user cap)
//   <prefix>#owners     hash: endpoint -> user (one owner per browser; its
//                       length is the total, for maxSubscriptions)
// Adding and removing are one Lua script each (atomic: two nodes adding at
// once never exceed the caps); listing is one HVALS. Loop thread only.
#pragma once

#include "subscription_store.hpp"

#include <daheim/plugin.hpp>

#include <string>
#include <vector>

namespace webpush {

class RedisStore final : public SubscriptionStore {
 public:
  RedisStore(dhl::Host& host, std::string prefix, std::size_t max_per_user, std::size_t max_total)
      : host_(host),
        prefix_(std::move(prefix)),
        max_per_user_(max_per_user),
        max_total_(max_total) {}

  void add(std::string_view user, Subscription sub, DoneFn fn) override;
  void remove(std::string_view user, std::string_view endpoint, DoneFn fn) override;
  void list(std::string_view user, ListFn fn) override;
  std::size_t size() const override { return total_; }

  // The scripts (ARGV: prefix, user, endpoint[, json, maxPerUser, maxTotal])
  // -> {1 done / 0 full or missing, total}.
  static const std::string& add_script();
  static const std::string& remove_script();

 private:
  void run(const std::string& script, std::vector<std::string> args, StoreResult no, DoneFn fn);

  dhl::Host& host_;
  std::string prefix_;
  std::size_t max_per_user_;
  std::size_t max_total_;
  std::size_t total_ = 0;  // as the last script saw it
};

}  // namespace webpush
