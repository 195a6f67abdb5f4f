// The presence plugin's configuration (the `config` value of its entry in
// the server's "plugins" list). See README.md for the keys.
#pragma once

#include <daheim/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace presence {

struct Config {
  std::string nsp = "/";
  std::string role_claim = "role";
  // role -> room, in the configured order (the keys of `online` are the rooms).
  std::vector<std::pair<std::string, std::string>> role_rooms = {{"teacher", "teachers"},
                                                                 {"student", "students"}};
  std::string authenticated_room = "authenticated";
  std::set<std::string, std::less<>> ready_roles = {"student"};
  std::string ready_users_room = "teachers";
  std::optional<std::set<std::string, std::less<>>> list_roles;  // none: every authenticated user
  uint64_t online_interval_ms = 100;
  uint64_t ready_users_interval_ms = 100;
  uint64_t ready_grace_ms = 30000;
  std::size_t list_page_size = 100;
  std::size_t list_max_page_size = 1000;
  std::size_t max_topic_bytes = 1024;
  std::string redis_key = "presence";  // clustered: the prefix of the Redis keys

  // The room of `role`, or nullptr.
  const std::string* room_of(std::string_view role) const {
    for (const auto& [r, room] : role_rooms)
      if (r == role) return &room;
    return nullptr;
  }
};

// Reads `json` (null: the defaults). nullopt with `error` set when a key has
// a wrong type or value; unknown keys are reported in `warnings`.
std::optional<Config> parse_config(const dhl::Json& json, std::string& error,
                                   std::vector<std::string>& warnings);

}  // namespace presence
