// Subscriptions in this process's memory (one node), bounded per user and
// in total.
#pragma once

#include "subscription_store.hpp"

#include <map>
#include <utility>

namespace webpush {

class MemoryStore final : public SubscriptionStore {
 public:
  MemoryStore(std::size_t max_per_user, std::size_t max_total)
      : max_per_user_(max_per_user), max_total_(max_total) {}

  // At once: false when full / not there.
  bool add(std::string_view user, Subscription sub);
  bool remove(std::string_view user, std::string_view endpoint);
  void add(std::string_view user, Subscription sub, DoneFn fn) override {
    fn(add(user, std::move(sub)) ? StoreResult::Done : StoreResult::Full);
  }
  void remove(std::string_view user, std::string_view endpoint, DoneFn fn) override {
    fn(remove(user, endpoint) ? StoreResult::Done : StoreResult::Missing);
  }
  void list(std::string_view user, ListFn fn) override;
  std::size_t size() const override { return total_; }

 private:
  std::size_t max_per_user_;
  std::size_t max_total_;
  std::size_t total_ = 0;
  // Oldest first.
  std::map<std::string, std::vector<Subscription>, std::less<>> users_;
  // Endpoint -> user: one browser belongs to the user who subscribed last.
  std::map<std::string, std::string, std::less<>> owners_;
};

}  // namespace webpush
