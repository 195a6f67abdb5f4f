#include <algorithm>
#include <utility>

#include "presence_store.hpp"

namespace presence {

namespace {

void count(std::map<std::string, std::size_t, std::less<>>& by_role, const std::string& role,
           int delta) {
  if (role.empty()) return;
  auto it = by_role.find(role);
  if (delta > 0) {
    if (it == by_role.end()) it = by_role.emplace(role, 0).first;
    ++it->second;
  } else if (it != by_role.end() && --it->second == 0) {
    by_role.erase(it);
  }
}

}  // namespace

void MemoryPresenceStore::unschedule(const std::string& user, Ready& r) {
  if (!r.expire_at) return;
  auto [b, e] = deadlines_.equal_range(*r.expire_at);
  for (auto it = b; it != e; ++it)
    if (it->second == user) {
      deadlines_.erase(it);
      break;
    }
  r.expire_at.reset();
}

Joined MemoryPresenceStore::connect(std::string_view user, std::string_view role,
                                    std::string_view socket) {
  Joined out;
  auto it = online_.find(user);
  if (it == online_.end()) {
    it = online_.emplace(std::string(user), User{}).first;
    out.first = true;
  }
  User& u = it->second;
  if (out.first || u.role != role) {
    if (!out.first) count(by_role_, u.role, -1);
    u.role = std::string(role);
    count(by_role_, u.role, +1);
  }
  u.sockets.emplace(socket);
  if (auto r = ready_.find(user); r != ready_.end()) {
    unschedule(r->first, r->second);
    out.ready = r->second.topic;
  }
  return out;
}

bool MemoryPresenceStore::disconnect(std::string_view user, std::string_view socket,
                                     uint64_t expire_at) {
  auto it = online_.find(user);
  if (it == online_.end()) return false;
  auto s = it->second.sockets.find(socket);
  if (s == it->second.sockets.end()) return false;
  it->second.sockets.erase(s);
  if (!it->second.sockets.empty()) return false;
  count(by_role_, it->second.role, -1);
  online_.erase(it);
  if (auto r = ready_.find(user); r != ready_.end()) {
    unschedule(r->first, r->second);
    r->second.expire_at = expire_at;
    deadlines_.emplace(expire_at, r->first);
  }
  return true;
}

bool MemoryPresenceStore::set_ready(std::string_view user, const dhl::Json& topic) {
  auto it = ready_.find(user);
  if (it != ready_.end()) {
    if (it->second.topic == topic) return false;
    it->second.topic = topic;  // a new topic keeps the place in the queue
    return true;
  }
  Ready r{topic, ++next_since_, std::nullopt};
  ready_.emplace(std::string(user), std::move(r));
  return true;
}

bool MemoryPresenceStore::clear_ready(std::string_view user) {
  auto it = ready_.find(user);
  if (it == ready_.end()) return false;
  unschedule(it->first, it->second);
  ready_.erase(it);
  return true;
}

std::optional<dhl::Json> MemoryPresenceStore::ready_topic(std::string_view user) const {
  auto it = ready_.find(user);
  if (it == ready_.end()) return std::nullopt;
  return it->second.topic;
}

std::vector<std::string> MemoryPresenceStore::expire(uint64_t now) {
  std::vector<std::string> out;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    std::string user = std::move(deadlines_.begin()->second);
    deadlines_.erase(deadlines_.begin());
    ready_.erase(user);
    out.push_back(std::move(user));
  }
  return out;
}

std::optional<uint64_t> MemoryPresenceStore::next_expiry() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

std::map<std::string, std::size_t> MemoryPresenceStore::online_by_role() const {
  return {by_role_.begin(), by_role_.end()};
}

std::vector<ReadyUser> MemoryPresenceStore::ready_users() const {
  std::vector<std::pair<uint64_t, const std::pair<const std::string, Ready>*>> order;
  order.reserve(ready_.size());
  for (const auto& entry : ready_) order.emplace_back(entry.second.since, &entry);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ReadyUser> out;
  out.reserve(order.size());
  for (const auto& [since, entry] : order) out.push_back({entry->first, entry->second.topic});
  return out;
}

Page MemoryPresenceStore::online_users(std::size_t offset, std::size_t limit) const {
  Page page;
  page.total = online_.size();
  if (offset >= online_.size()) return page;
  auto it = std::next(online_.begin(), static_cast<std::ptrdiff_t>(offset));
  for (; it != online_.end() && page.users.size() < limit; ++it) {
    OnlineUser u{it->first, it->second.role, false, dhl::Json()};
    if (auto r = ready_.find(it->first); r != ready_.end()) {
      u.ready = true;
      u.topic = r->second.topic;
    }
    page.users.push_back(std::move(u));
  }
  return page;
}

}  // namespace presence
