// The state of the presence plugin behind a small interface: who is online
// (users, not sockets), with which role, and who is ready (with a topic).
//
// Every operation is one atomic step of the presence rules, so that a cluster
// implementation (Redis, later: one Lua script per operation, connections as
// sets, the grace deadlines as a sorted set) gives every node the same
// answers as MemoryPresenceStore gives one node. The plugin keeps no
// presence state of its own besides what each socket is (user id, role).
//
// Times are milliseconds of one monotonic clock chosen by the caller (the
// host's loop clock for the in-memory store).
#pragma once

#include <daheim/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace presence {

// One online user as $presence.list shows it.
struct OnlineUser {
  std::string id;
  std::string role;  // empty: the token carried no role
  bool ready = false;
  dhl::Json topic;  // null unless ready
};

// One entry of readyUsers.
struct ReadyUser {
  std::string id;
  dhl::Json topic;
};

struct Page {
  std::vector<OnlineUser> users;
  std::size_t total = 0;  // online users in all
};

// What connect() found.
struct Joined {
  bool first = false;              // the user came online (their first connection)
  std::optional<dhl::Json> ready;  // the topic when the user is ready
};

class PresenceStore {
 public:
  virtual ~PresenceStore() = default;

  // Adds the connection `socket` of `user`, whose role is `role` (the user's
  // role becomes the latest connection's). Cancels a pending expiry of the
  // user's ready flag.
  virtual Joined connect(std::string_view user, std::string_view role, std::string_view socket) = 0;
  // Removes the connection. True when it was the user's last: then a ready
  // flag starts its grace period and expires at `expire_at` unless the user
  // comes back first.
  virtual bool disconnect(std::string_view user, std::string_view socket, uint64_t expire_at) = 0;

  // Marks the user ready with `topic`. False when nothing changed (already
  // ready with an equal topic).
  virtual bool set_ready(std::string_view user, const dhl::Json& topic) = 0;
  // Clears the ready flag. False when the user was not ready.
  virtual bool clear_ready(std::string_view user) = 0;
  // The topic when the user is ready.
  virtual std::optional<dhl::Json> ready_topic(std::string_view user) const = 0;

  // Clears the ready flags whose grace ended at or before `now`; returns
  // those users.
  virtual std::vector<std::string> expire(uint64_t now) = 0;
  // The earliest pending expiry, if any.
  virtual std::optional<uint64_t> next_expiry() const = 0;

  // Online users per role (users without a role are not counted).
  virtual std::map<std::string, std::size_t> online_by_role() const = 0;
  // Ready users (online or in their grace period), longest waiting first.
  virtual std::vector<ReadyUser> ready_users() const = 0;
  // Online users ordered by id: [offset, offset + limit).
  virtual Page online_users(std::size_t offset, std::size_t limit) const = 0;
};

// One node's state in memory.
class MemoryPresenceStore final : public PresenceStore {
 public:
  Joined connect(std::string_view user, std::string_view role, std::string_view socket) override;
  bool disconnect(std::string_view user, std::string_view socket, uint64_t expire_at) override;
  bool set_ready(std::string_view user, const dhl::Json& topic) override;
  bool clear_ready(std::string_view user) override;
  std::optional<dhl::Json> ready_topic(std::string_view user) const override;
  std::vector<std::string> expire(uint64_t now) override;
  std::optional<uint64_t> next_expiry() const override;
  std::map<std::string, std::size_t> online_by_role() const override;
  std::vector<ReadyUser> ready_users() const override;
  Page online_users(std::size_t offset, std::size_t limit) const override;

 private:
  struct User {
    std::string role;
    std::set<std::string, std::less<>> sockets;
  };
  struct Ready {
    dhl::Json topic;
    uint64_t since = 0;                 // order of readiness
    std::optional<uint64_t> expire_at;  // set while the user is offline
  };

  void unschedule(const std::string& user, Ready& r);

  std::map<std::string, User, std::less<>> online_;
  std::map<std::string, std::size_t, std::less<>> by_role_;
  std::map<std::string, Ready, std::less<>> ready_;
  std::multimap<uint64_t, std::string> deadlines_;  // expire_at -> user
  uint64_t next_since_ = 0;
};

}  // namespace presence
