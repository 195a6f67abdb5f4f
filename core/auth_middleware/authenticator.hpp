// JWT authentication as Socket.IO connect middleware: verifies the token
// before any plugin sees the socket, attaches the user, disconnects it when
// the token expires (unless refreshed), rate-limits failures per address,
// and reloads keys on SIGHUP.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "auth/auth_error.hpp"
#include "auth/verifier.hpp"
#include "auth_middleware/auth_config.hpp"
#include "auth_middleware/connect_rate.hpp"
#include "loop/timer.hpp"
#include "socketio/namespace.hpp"
#include "socketio/socket.hpp"

namespace daheim::auth_middleware {

struct SocketAuth;

// What /metrics shows of the middleware (ops/auth_metrics.hpp).
struct AuthStats {
  static constexpr std::size_t kRateLimited = 9;  // after the last auth::AuthError
  uint64_t accepted = 0;
  std::array<uint64_t, kRateLimited + 1> refusals{};  // by auth::AuthError, then rate_limited
  uint64_t too_many_sockets = 0;                      // auth.maxSocketsPerUser
  uint64_t connects_rate_limited = 0;                 // auth.connectsPerSecondPerUser
  uint64_t expired_disconnects = 0;
  uint64_t connect_rate_users = 0;  // gauge: users whose CONNECT bucket is not yet forgotten
  uint64_t failure_addresses = 0;   // gauge: addresses with failures in their window
};

class Authenticator {
 public:
  // Loads the keys; returns nullptr and fills `error` on failure.
  static std::unique_ptr<Authenticator> create(const AuthConfig& config, loop::TimerQueue& timers,
                                               std::string& error);

  ~Authenticator();
  void install(socketio::Namespace& nsp);
  // The verified user of a socket, or null (not authenticated).
  static const auth::User* user_of(const socketio::Socket& socket);
  // `$auth.refresh`: same checks, same user id. nullopt on success, else the
  // error code (an AuthError's code, or "user_mismatch").
  std::optional<std::string_view> refresh(socketio::Socket& socket, std::string_view token);
  // A token that is not a socket's (the plugins' verify_token): the same keys
  // and claim rules, except that a non-empty `audience` replaces the
  // configured audiences. Not rate-limited, not counted.
  std::variant<auth::User, auth::AuthError> verify(std::string_view token,
                                                   std::string_view audience) const;
  // SIGHUP: re-reads the key files; keeps the old keys on error.
  bool reload(const AuthConfig& config, std::string& error);
  const AuthStats& stats() const { return stats_; }
  bool refresh_allowed() const { return config_.allow_refresh; }

 private:
  Authenticator(const AuthConfig& config, loop::TimerQueue& timers,
                std::shared_ptr<const auth::KeyStore> keys);
  std::optional<socketio::ConnectError> check(socketio::Socket& socket);
  std::string token_of(const socketio::Socket& socket) const;
  bool rate_limited(const std::string& address);
  void record_failure(const std::string& address);
  socketio::ConnectError refuse(socketio::Socket& socket, auth::AuthError error);
  void attach(socketio::Socket& socket, auth::User user);
  void arm_expiry(socketio::Socket& socket);
  bool take_connect(const std::string& user_id);
  void sweep_connect_rate();
  void sweep_failures();
  int64_t now_unix() const;

  struct Failures {
    int64_t window_start_ms = 0;
    int64_t count = 0;
  };

  AuthConfig config_;
  loop::TimerQueue& timers_;
  auth::Verifier verifier_;
  std::unordered_map<std::string, Failures> failures_;
  AuthStats stats_;
  std::vector<std::unique_ptr<SocketAuth>> retired_;
  std::unordered_map<std::string, uint32_t> sockets_per_user_;  // connected, by user id
  ConnectRate connect_rate_;                                    // valid CONNECTs, by user id
  loop::Timer reaper_;
  loop::Timer connect_rate_sweeper_;  // armed while connect_rate_ tracks anyone
  loop::Timer failure_sweeper_;       // armed while failures_ is not empty
};

}  // namespace daheim::auth_middleware
