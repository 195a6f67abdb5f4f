// The presence plugin: online users and readiness, as the original Daheim
// live server's auth handler did it (see README.md).
//
//   - An authenticated socket joins `authenticated`, `user-<id>` and its
//     role's room; `online {teachers, students}` goes to `authenticated`
//     when the counts of online users (not sockets) change, coalesced.
//   - $ready {ready, topic} -> {} for the ready roles: `userIsReady {topic}` /
//     `userIsNotReady` to the user's sockets, `readyUsers [{id, topic}]` to
//     the teachers. A ready flag outlives the user's last socket by a grace
//     period, then expires.
//   - $presence.list {offset, limit} -> {users: [{id, role, ready, topic}],
//     total, next}.
//
// The state lives behind PresenceStore (presence_store.hpp), so that a
// cluster store can replace the in-memory one.
#include <daheim/plugin.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "coalescer.hpp"
#include "config.hpp"
#include "presence_store.hpp"
#include "redis_presence.hpp"

namespace presence {

namespace {

bool has_binary(const dhl::Json& j) {
  if (j.is_binary()) return true;
  for (const dhl::Json& item : j.items())
    if (has_binary(item)) return true;
  for (const auto& [key, value] : j.members())
    if (has_binary(value)) return true;
  return false;
}

Config load_config(const dhl::Host& host) {
  std::string text(host.config_text());
  std::string parse_error;
  std::optional<dhl::Json> json = dhl::Json::parse(text.empty() ? "null" : text, {}, &parse_error);
  if (!json) throw std::runtime_error("config is not JSON: " + parse_error);
  std::string error;
  std::vector<std::string> warnings;
  std::optional<Config> config = parse_config(*json, error, warnings);
  for (const std::string& w : warnings) host.warning(w);
  if (!config) throw std::runtime_error(error);
  return std::move(*config);
}

class Presence {
 public:
  // What this plugin knows of each socket.
  struct SocketState {
    bool tracked = false;  // authenticated, in our namespace
    std::string user;
    std::string role;
    std::string id;
    // Recovery: the ready topic the socket's saved session carried.
    std::optional<dhl::Json> restored_topic;
  };

  explicit Presence(dhl::Host& host)
      : host_(host),
        cfg_(load_config(host)),
        store_(std::make_unique<MemoryPresenceStore>()),
        online_(host, cfg_.online_interval_ms, [this](bool force) { return send_online(force); }),
        ready_users_(host, cfg_.ready_users_interval_ms,
                     [this](bool force) { return send_ready_users(force); }),
        expiry_(host, [this] { expire(); }) {
    if (host.clustered()) redis_ = std::make_unique<RedisPresence>(host, cfg_);
  }

  void onConnect(dhl::Socket& socket) {
    auto& st = socket.state<SocketState>();
    if (socket.nsp() != cfg_.nsp || socket.user_id().empty()) return;
    st.tracked = true;
    st.user = std::string(socket.user_id());
    st.id = std::string(socket.id());
    st.role = std::string(socket.claims()[cfg_.role_claim].as_string());

    socket.join(cfg_.authenticated_room);
    socket.join(DHL_USER_ROOM_PREFIX + st.user);
    const std::string* room = cfg_.room_of(st.role);
    if (room) socket.join(*room);
    if (redis_) {
      std::optional<dhl::Json> restored = std::move(st.restored_topic);
      st.restored_topic.reset();
      return redis_->connect(st.user, st.role, st.id, room && *room == cfg_.ready_users_room,
                             restored);
    }

    Joined joined = store_->connect(st.user, st.role, st.id);
    restore_ready(st, joined);
    if (joined.ready) {
      socket.emit("userIsReady", dhl::Json::object({{"topic", *joined.ready}}));
      if (joined.first) arm_expiry();  // its grace period ended early
    }
    // The new socket learns the counts, by the broadcast or directly.
    bool sent = joined.first && online_.request();
    if (!sent) socket.emit("online", counts());
    if (room && *room == cfg_.ready_users_room) socket.emit("readyUsers", ready_list());
  }

  void onDisconnect(dhl::Socket& socket) {
    auto& st = socket.state<SocketState>();
    if (!st.tracked) return;
    if (redis_) return redis_->disconnect(st.user, st.id);
    if (store_->disconnect(st.user, st.id, host_.now_ms() + cfg_.ready_grace_ms)) {
      online_.request();
      arm_expiry();
    }
  }

  // Connection-state recovery: a socket that leaves recoverably keeps the
  // user's ready flag with its session, so that a recovery after the grace
  // period does not drop it (the counts need nothing: the disconnect removed
  // the socket and the recovery adds it again).
  std::string saveSession(dhl::Socket& socket) {
    const auto& st = socket.state<SocketState>();
    if (!st.tracked) return {};
    std::optional<dhl::Json> topic =
        redis_ ? redis_->ready_topic(st.user) : store_->ready_topic(st.user);
    if (!topic) return {};
    return dhl::Json::object({{"ready", true}, {"topic", *topic}}).dump();
  }

  void restoreSession(dhl::Socket& socket, std::string_view saved) {
    std::optional<dhl::Json> json = dhl::Json::parse(saved);
    if (!json || !(*json)["ready"].as_bool(false)) return;
    socket.state<SocketState>().restored_topic = (*json)["topic"];
  }

  // $ready {ready, topic} -> {}
  dhl::Future ready(dhl::Socket& socket, const dhl::Json& args) {
    const auto& st = socket.state<SocketState>();
    if (!st.tracked || !cfg_.ready_roles.contains(st.role)) throw dhl::Error("forbidden");
    const dhl::Json& a = args[0];
    if (!a.is_object() && !a.is_null()) throw dhl::Error("badRequest");
    const dhl::Json& flag = a["ready"];
    if (!flag.is_bool() && !flag.is_null()) throw dhl::Error("badRequest");
    if (flag.as_bool(false)) {
      const dhl::Json& topic = a["topic"];
      if (has_binary(topic) || topic.dump().size() > cfg_.max_topic_bytes)
        throw dhl::Error("badRequest");
      // saveSession keeps the flag (clustered: once Redis has it).
      if (redis_) return redis_->ready(st.user, true, topic);
      socket.session_changed();
      if (store_->set_ready(st.user, topic)) {
        host_.emit_to_user(cfg_.nsp, st.user, "userIsReady", dhl::Json::object({{"topic", topic}}));
        ready_users_.request();
      }
    } else if (redis_) {
      return redis_->ready(st.user, false, dhl::Json());
    } else if (store_->clear_ready(st.user)) {
      socket.session_changed();
      host_.emit_to_user(cfg_.nsp, st.user, "userIsNotReady");
      ready_users_.request();
    }
    return dhl::Future::ready(dhl::Json::object());
  }

  // $presence.list {offset, limit} -> {users, total, next}
  dhl::Future list(dhl::Socket& socket, const dhl::Json& args) {
    const auto& st = socket.state<SocketState>();
    if (!st.tracked || (cfg_.list_roles && !cfg_.list_roles->contains(st.role)))
      throw dhl::Error("forbidden");
    const dhl::Json& a = args[0];
    if (!a.is_object() && !a.is_null()) throw dhl::Error("badRequest");
    std::size_t offset = 0;
    std::size_t limit = cfg_.list_page_size;
    if (const dhl::Json* o = a.find("offset"); o && !o->is_null()) {
      if (!o->is_int() || o->as_int() < 0) throw dhl::Error("badRequest");
      offset = static_cast<std::size_t>(o->as_int());
    }
    if (const dhl::Json* l = a.find("limit"); l && !l->is_null()) {
      if (!l->is_int() || l->as_int() < 1) throw dhl::Error("badRequest");
      limit = static_cast<std::size_t>(
          std::min<int64_t>(l->as_int(), static_cast<int64_t>(cfg_.list_max_page_size)));
    }
    if (redis_) return redis_->list(offset, limit);
    Page page = store_->online_users(offset, limit);
    dhl::Json users = dhl::Json::array();
    for (OnlineUser& u : page.users)
      users.push_back(dhl::Json::object({{"id", std::move(u.id)},
                                         {"role", u.role.empty() ? dhl::Json() : dhl::Json(u.role)},
                                         {"ready", u.ready},
                                         {"topic", std::move(u.topic)}}));
    std::size_t end = offset + page.users.size();
    return dhl::Future::ready(
        dhl::Json::object({{"users", std::move(users)},
                           {"total", page.total},
                           {"next", end < page.total ? dhl::Json(end) : dhl::Json()}}));
  }

 private:
  // The user's only socket recovered after the ready flag expired: the flag
  // comes back with the session (same topic, at the end of the list).
  void restore_ready(SocketState& st, Joined& joined) {
    std::optional<dhl::Json> topic = std::move(st.restored_topic);
    st.restored_topic.reset();
    if (!topic || joined.ready || !joined.first) return;
    if (store_->set_ready(st.user, *topic)) ready_users_.request();
    joined.ready = std::move(topic);
  }

  // {"teachers": N, "students": N}: online users per role room.
  dhl::Json counts() const {
    std::map<std::string, std::size_t> by_role = store_->online_by_role();
    dhl::Json out = dhl::Json::object();
    for (const auto& [role, room] : cfg_.role_rooms) {
      auto it = by_role.find(role);
      std::size_t n = it == by_role.end() ? 0 : it->second;
      out[room] = out[room].as_int() + static_cast<int64_t>(n);
    }
    return out;
  }

  dhl::Json ready_list() const {
    dhl::Json out = dhl::Json::array();
    for (ReadyUser& u : store_->ready_users())
      out.push_back(dhl::Json::object({{"id", std::move(u.id)}, {"topic", std::move(u.topic)}}));
    return out;
  }

  bool send_online(bool force) {
    dhl::Json now = counts();
    if (!force && last_online_ && *last_online_ == now) return false;
    host_.emit_to_room(cfg_.nsp, cfg_.authenticated_room, "online", now);
    last_online_ = std::move(now);
    return true;
  }

  bool send_ready_users(bool force) {
    dhl::Json now = ready_list();
    if (!force && last_ready_users_ && *last_ready_users_ == now) return false;
    host_.emit_to_room(cfg_.nsp, cfg_.ready_users_room, "readyUsers", now);
    last_ready_users_ = std::move(now);
    return true;
  }

  void arm_expiry() {
    std::optional<uint64_t> next = store_->next_expiry();
    if (!next) {
      expiry_.disarm();
      return;
    }
    uint64_t now = host_.now_ms();
    expiry_.arm(std::chrono::milliseconds(*next > now ? *next - now : 0));
  }

  // Grace periods ended: the lists and the counts go out again.
  void expire() {
    if (!store_->expire(host_.now_ms()).empty()) {
      ready_users_.request(true);
      online_.request(true);
    }
    arm_expiry();
  }

  dhl::Host& host_;
  Config cfg_;
  std::unique_ptr<PresenceStore> store_;
  std::unique_ptr<RedisPresence> redis_;  // clustered: the state is in Redis
  std::optional<dhl::Json> last_online_;
  std::optional<dhl::Json> last_ready_users_;
  Coalescer online_;
  Coalescer ready_users_;
  dhl::Timer expiry_;
};

}  // namespace

}  // namespace presence

DHL_PLUGIN(presence::Presence, "presence", "1.0.0",
           dhl::method<&presence::Presence::ready>("$ready"),
           dhl::method<&presence::Presence::list>("$presence.list"))
