// Who may join the admin namespace: a known session id, or the configured
// user name and a password matching its bcrypt hash (then a new session id
// is handed out), as @socket.io/admin-ui's basic authentication.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "admin/admin_options.hpp"
#include "loop/timer.hpp"
#include "socketio/connect_error.hpp"

namespace daheim::admin {

class Gate {
 public:
  Gate(const AdminOptions& options, loop::TimerQueue& timers);

  struct Verdict {
    std::optional<socketio::ConnectError> error;  // refused
    std::string new_session;                      // admitted by password
  };
  // `auth_json`: the socket's CONNECT payload.
  Verdict check(std::string_view auth_json);

  uint64_t refused() const { return refused_; }

 private:
  bool take_attempt();
  std::string remember_new_session();

  const AdminOptions& options_;
  loop::TimerQueue& timers_;
  std::unordered_set<std::string> sessions_;
  std::deque<std::string> order_;  // oldest first
  double tokens_;
  loop::TimePoint refilled_;
  uint64_t refused_ = 0;
};

}  // namespace daheim::admin
