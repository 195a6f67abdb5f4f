// The admin UI's server side, as configured (`admin` in the config file).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "admin/bcrypt.hpp"
#include "loop/timer.hpp"

namespace daheim::admin {

struct AdminCredentials {
  std::string username;
  BcryptHash password;  // read from admin.auth.passwordHashFile
};

struct AdminOptions {
  bool enabled = false;
  std::string namespace_name = "/admin";
  // nullopt: no authentication (admin.auth: null).
  std::optional<AdminCredentials> auth;
  bool readonly = false;
  // Development mode: every socket's connection, rooms and events reach the
  // UI (all_sockets, socket_connected, event_received, ...). Production: the
  // server stats only.
  bool development = false;
  std::string server_id;  // empty: the host name
  loop::Millis stats_interval{2000};
  // Session ids handed out to logged-in UIs (the oldest is forgotten first).
  std::size_t max_sessions = 1000;
  // Password checks (each a bcrypt computation on the event loop) per minute;
  // beyond, CONNECT_ERROR "too many attempts".
  std::size_t logins_per_minute = 10;
  // Development-mode notifications waiting for the next loop turn; beyond,
  // they are dropped (counted).
  std::size_t max_queued_events = 10000;
  // The UI's files (the npm package's ui/dist) and where they are served.
  std::string ui_dir;
  std::string ui_path = "/admin/";
};

}  // namespace daheim::admin
