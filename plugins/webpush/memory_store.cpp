#include "memory_store.hpp"

#include <algorithm>

namespace webpush {

bool MemoryStore::add(std::string_view user, Subscription sub) {
  auto owner = owners_.find(sub.endpoint);
  if (owner != owners_.end() && owner->second != user) {
    std::string previous = owner->second;  // another user signed in on that browser
    remove(previous, sub.endpoint);
  }
  auto it = users_.find(user);
  if (it != users_.end()) {
    std::vector<Subscription>& subs = it->second;
    auto same = std::find_if(subs.begin(), subs.end(),
                             [&](const Subscription& s) { return s.endpoint == sub.endpoint; });
    if (same != subs.end()) {  // a renewed key: the newest goes last
      subs.erase(same);
      subs.push_back(std::move(sub));
      return true;
    }
  }
  if (total_ >= max_total_) return false;
  if (it == users_.end()) it = users_.emplace(std::string(user), std::vector<Subscription>()).first;
  std::vector<Subscription>& subs = it->second;
  if (subs.size() >= max_per_user_) {
    owners_.erase(subs.front().endpoint);
    subs.erase(subs.begin());
    --total_;
  }
  owners_[sub.endpoint] = std::string(user);
  subs.push_back(std::move(sub));
  ++total_;
  return true;
}

bool MemoryStore::remove(std::string_view user, std::string_view endpoint) {
  auto it = users_.find(user);
  if (it == users_.end()) return false;
  std::vector<Subscription>& subs = it->second;
  auto same = std::find_if(subs.begin(), subs.end(),
                           [&](const Subscription& s) { return s.endpoint == endpoint; });
  if (same == subs.end()) return false;
  owners_.erase(same->endpoint);
  subs.erase(same);
  --total_;
  if (subs.empty()) users_.erase(it);
  return true;
}

void MemoryStore::list(std::string_view user, ListFn fn) {
  auto it = users_.find(user);
  fn(it == users_.end() ? std::vector<Subscription>() : it->second);
}

}  // namespace webpush
