#include "config.hpp"

#include <algorithm>
#include <string_view>

namespace presence {

namespace {

constexpr std::string_view kKeys[] = {
    "namespace",      "roleClaim",       "roleRooms",      "authenticatedRoom",  "readyRoles",
    "readyUsersRoom", "listRoles",       "onlineInterval", "readyUsersInterval", "readyGrace",
    "listPageSize",   "listMaxPageSize", "maxTopicBytes",  "redisKey",
};

struct Reader {
  const dhl::Json& json;
  std::string& error;

  bool fail(std::string_view key, std::string_view what) {
    error = "config key \"" + std::string(key) + "\": " + std::string(what);
    return false;
  }

  bool string(std::string_view key, std::string& out) {
    const dhl::Json* v = json.find(key);
    if (!v) return true;
    if (!v->is_string() || v->as_string().empty()) return fail(key, "must be a non-empty string");
    out = std::string(v->as_string());
    return true;
  }

  bool integer(std::string_view key, uint64_t min, uint64_t max, uint64_t& out) {
    const dhl::Json* v = json.find(key);
    if (!v) return true;
    if (!v->is_int() || v->as_int() < 0 || static_cast<uint64_t>(v->as_int()) < min ||
        static_cast<uint64_t>(v->as_int()) > max)
      return fail(key,
                  "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    out = static_cast<uint64_t>(v->as_int());
    return true;
  }

  bool size(std::string_view key, std::size_t min, std::size_t max, std::size_t& out) {
    uint64_t v = out;
    if (!integer(key, min, max, v)) return false;
    out = static_cast<std::size_t>(v);
    return true;
  }

  bool strings(std::string_view key, std::set<std::string, std::less<>>& out) {
    const dhl::Json* v = json.find(key);
    if (!v) return true;
    if (!v->is_array()) return fail(key, "must be an array of strings");
    out.clear();
    for (const dhl::Json& item : v->items()) {
      if (!item.is_string() || item.as_string().empty())
        return fail(key, "must be an array of non-empty strings");
      out.emplace(item.as_string());
    }
    return true;
  }
};

}  // namespace

std::optional<Config> parse_config(const dhl::Json& json, std::string& error,
                                   std::vector<std::string>& warnings) {
  Config c;
  if (json.is_null()) return c;
  if (!json.is_object()) {
    error = "config must be an object";
    return std::nullopt;
  }
  for (const auto& [key, value] : json.members()) {
    bool known = false;
    for (std::string_view k : kKeys) known = known || key == k;
    if (!known) warnings.push_back("unknown config key \"" + key + "\" ignored");
  }
  Reader r{json, error};
  constexpr uint64_t kDay = 24ull * 3600 * 1000;
  if (!r.string("namespace", c.nsp) || !r.string("roleClaim", c.role_claim) ||
      !r.string("authenticatedRoom", c.authenticated_room) || !r.string("redisKey", c.redis_key) ||
      !r.string("readyUsersRoom", c.ready_users_room) || !r.strings("readyRoles", c.ready_roles) ||
      !r.integer("onlineInterval", 0, kDay, c.online_interval_ms) ||
      !r.integer("readyUsersInterval", 0, kDay, c.ready_users_interval_ms) ||
      !r.integer("readyGrace", 0, kDay, c.ready_grace_ms) ||
      !r.size("listMaxPageSize", 1, 100000, c.list_max_page_size) ||
      !r.size("maxTopicBytes", 4, 1 << 20, c.max_topic_bytes))
    return std::nullopt;
  c.list_page_size = std::min(c.list_page_size, c.list_max_page_size);
  if (!r.size("listPageSize", 1, c.list_max_page_size, c.list_page_size)) return std::nullopt;
  if (c.nsp.front() != '/') {
    r.fail("namespace", "must start with /");
    return std::nullopt;
  }
  if (const dhl::Json* v = json.find("listRoles"); v && !v->is_null()) {
    c.list_roles.emplace();
    if (!r.strings("listRoles", *c.list_roles)) return std::nullopt;
  }
  if (const dhl::Json* v = json.find("roleRooms")) {
    if (!v->is_object()) {
      r.fail("roleRooms", "must be an object of role: room");
      return std::nullopt;
    }
    c.role_rooms.clear();
    for (const auto& [role, room] : v->members()) {
      if (role.empty() || !room.is_string() || room.as_string().empty()) {
        r.fail("roleRooms", "must map non-empty roles to non-empty room names");
        return std::nullopt;
      }
      c.role_rooms.emplace_back(role, std::string(room.as_string()));
    }
  }
  return c;
}

}  // namespace presence
