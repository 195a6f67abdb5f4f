// Where subscriptions are kept, per user. The plugin talks to this
// interface only, and every answer comes through a callback, so a store in
// Redis (RedisStore, through the host's Redis services, in a cluster)
// answers later on the loop; MemoryStore (one node) answers at once.
#pragma once

#include "subscription.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace webpush {

enum class StoreResult {
  Done,         // added / removed
  Full,         // add: the store holds its maximum
  Missing,      // remove: no such subscription
  Unavailable,  // the store could not be reached (logged)
};

class SubscriptionStore {
 public:
  using ListFn = std::function<void(std::vector<Subscription>)>;
  using DoneFn = std::function<void(StoreResult)>;

  virtual ~SubscriptionStore() = default;
  // Adds or replaces (same endpoint) a subscription of `user`. A user at
  // the per-user limit loses the oldest one. Full: the store is full.
  virtual void add(std::string_view user, Subscription sub, DoneFn fn) = 0;
  // Removes `endpoint` of `user`; Missing when it was not there.
  virtual void remove(std::string_view user, std::string_view endpoint, DoneFn fn) = 0;
  // The subscriptions of `user` (on the loop thread, now or later; none
  // when the store could not be reached).
  virtual void list(std::string_view user, ListFn fn) = 0;
  // How many subscriptions are stored (this node's latest view).
  virtual std::size_t size() const = 0;
};

}  // namespace webpush
