// Where subscriptions are kept, per user. The plugin talks to this
// interface only, and every answer comes through a callback, so a store in
// Redis (through the host's Redis services, in a cluster) can answer later
// without changing the plugin; MemoryStore (one node) answers at once.
#pragma once

#include "subscription.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace webpush {

class SubscriptionStore {
 public:
  using ListFn = std::function<void(std::vector<Subscription>)>;

  virtual ~SubscriptionStore() = default;
  // Adds or replaces (same endpoint) a subscription of `user`. A user at
  // the per-user limit loses the oldest one. false: the store is full.
  virtual bool add(std::string_view user, Subscription sub) = 0;
  // Removes `endpoint` of `user`; false when it was not there.
  virtual bool remove(std::string_view user, std::string_view endpoint) = 0;
  // The subscriptions of `user` (on the loop thread, now or later).
  virtual void list(std::string_view user, ListFn fn) = 0;
  // How many subscriptions are stored (this node's view).
  virtual std::size_t size() const = 0;
};

}  // namespace webpush
