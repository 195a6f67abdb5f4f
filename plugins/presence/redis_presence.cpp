#include "redis_presence.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <utility>

#include "redis_scripts.hpp"

namespace presence {
namespace {

constexpr auto kExpiryPeriod = std::chrono::milliseconds(1000);

std::optional<dhl::Json> parse(const std::string& text) {
  return dhl::Json::parse(text);
}

}  // namespace

RedisPresence::RedisPresence(dhl::Host& host, const Config& cfg)
    : host_(host),
      cfg_(cfg),
      prefix_(cfg.redis_key + ":"),
      expiry_(host, [this] { expire(); }),
      reads_(host, std::min(cfg.online_interval_ms, cfg.ready_users_interval_ms),
             [this](bool) {
               read_state();
               return true;
             }),
      events_(host,
              [this](bool joined, std::string_view node) {
                if (!joined) drop_node(node);
              }),
      messages_(host, [this](std::string_view event, const dhl::Json&) -> std::optional<dhl::Json> {
        if (event == "changed") refresh();
        return std::nullopt;
      }) {
  expiry_.arm(kExpiryPeriod);
}

bool RedisPresence::run(std::string_view body, std::vector<std::string> args, Done done,
                        std::function<void()> failed) {
  args.insert(args.begin(), prefix_);
  int rc = host_.redis_script(
      lua::script(body), {}, args,
      [this, done = std::move(done), failed](int status, const dhl::RedisReply& reply) {
        if (status == DHL_OK) return done(reply);
        host_.warning("redis: " + std::to_string(status) + " " + reply.str);
        if (failed) failed();
      });
  if (rc == DHL_OK) return true;
  host_.warning("redis unavailable (" + std::to_string(rc) + ")");
  if (failed) failed();
  return false;
}

// ---- Operations -----------------------------------------------------------------

void RedisPresence::connect(const std::string& user, const std::string& role,
                            const std::string& socket, bool teacher_room,
                            const std::optional<dhl::Json>& restored) {
  std::string nsp = cfg_.nsp;
  local_[socket] = {user, role};
  run(
      lua::kConnect,
      {std::string(host_.node_id()), socket, user, role, restored ? restored->dump() : "",
       teacher_room ? "1" : "0"},
      [this, nsp, user, socket, teacher_room](const dhl::RedisReply& r) {
        std::optional<dhl::Json> topic;
        if (r[1].integer == 1) topic = parse(r[2].str).value_or(dhl::Json());
        if (local_.contains(socket)) note_ready(user, topic);
        if (r[0].integer == 1 || r[5].integer == 1) changed();
        std::optional<dhl::Socket> s = host_.find(nsp, socket);
        if (!s) return;
        if (topic) s->emit("userIsReady", dhl::Json::object({{"topic", *topic}}));
        s->emit("online", counts_json(r[3]));
        if (teacher_room) s->emit("readyUsers", ready_json(r[4]));
      },
      [this] { unsynced_ = true; });
}

void RedisPresence::disconnect(const std::string& user, const std::string& socket) {
  local_.erase(socket);
  bool still_here = std::any_of(local_.begin(), local_.end(),
                                [&](const auto& c) { return c.second.user == user; });
  if (!still_here) ready_.erase(user);
  run(
      lua::kDisconnect,
      {std::string(host_.node_id()), socket, user, std::to_string(cfg_.ready_grace_ms)},
      [this](const dhl::RedisReply& r) {
        if (r.integer == 1) changed();
      },
      [this] { unsynced_ = true; });
}

std::optional<dhl::Json> RedisPresence::ready_topic(const std::string& user) const {
  auto it = ready_.find(user);
  if (it == ready_.end()) return std::nullopt;
  return it->second;
}

void RedisPresence::note_ready(const std::string& user, std::optional<dhl::Json> topic) {
  auto it = ready_.find(user);
  if (it == ready_.end() ? !topic : (topic && it->second == *topic)) return;
  if (topic)
    ready_[user] = std::move(*topic);
  else
    ready_.erase(it);
  for (const auto& [id, c] : local_) {
    if (c.user != user) continue;
    if (std::optional<dhl::Socket> s = host_.find(cfg_.nsp, id)) s->session_changed();
  }
}

dhl::Future RedisPresence::ready(const std::string& user, bool flag, const dhl::Json& topic) {
  auto p = std::make_shared<dhl::Promise>();
  dhl::Future f = p->future();
  std::string nsp = cfg_.nsp;
  auto failed = [p] { p->reject("unavailable"); };
  if (flag) {
    std::string text = topic.dump();
    run(
        lua::kSetReady, {user, text},
        [this, p, nsp, user, topic](const dhl::RedisReply& r) {
          note_ready(user, topic);
          if (r.integer == 1) {
            host_.emit_to_user(nsp, user, "userIsReady", dhl::Json::object({{"topic", topic}}));
            changed();
          }
          p->resolve(dhl::Json::object());
        },
        failed);
  } else {
    run(
        lua::kClearReady, {user},
        [this, p, nsp, user](const dhl::RedisReply& r) {
          note_ready(user, std::nullopt);
          if (r.integer == 1) {
            host_.emit_to_user(nsp, user, "userIsNotReady");
            changed();
          }
          p->resolve(dhl::Json::object());
        },
        failed);
  }
  return f;
}

dhl::Future RedisPresence::list(std::size_t offset, std::size_t limit) {
  auto p = std::make_shared<dhl::Promise>();
  dhl::Future f = p->future();
  run(
      lua::kList, {std::to_string(offset), std::to_string(limit)},
      [p, offset](const dhl::RedisReply& r) {
        dhl::Json users = dhl::Json::array();
        for (std::size_t i = 1; i < r.elements.size(); ++i) {
          const dhl::RedisReply& u = r[i];
          users.push_back(
              dhl::Json::object({{"id", u[0].str},
                                 {"role", u[1].str.empty() ? dhl::Json() : dhl::Json(u[1].str)},
                                 {"ready", u[3].integer == 1},
                                 {"topic", parse(u[2].str).value_or(dhl::Json())}}));
        }
        auto total = static_cast<std::size_t>(r[0].integer);
        std::size_t end = offset + (r.elements.size() - 1);
        p->resolve(dhl::Json::object({{"users", std::move(users)},
                                      {"total", total},
                                      {"next", end < total ? dhl::Json(end) : dhl::Json()}}));
      },
      [p] { p->reject("unavailable"); });
  return f;
}

// ---- Updates to every node's sockets ---------------------------------------------

void RedisPresence::changed() {
  host_.node_emit("changed");
  refresh();
}

void RedisPresence::refresh() {
  reads_.request();
}

// One read at a time; a change meanwhile reads again after it.
void RedisPresence::read_state() {
  if (refreshing_) {
    refresh_again_ = true;
    return;
  }
  refreshing_ = true;
  auto end = [this] {
    refreshing_ = false;
    if (std::exchange(refresh_again_, false)) read_state();
  };
  run(
      lua::kState, {},
      [this, end](const dhl::RedisReply& r) {
        on_state(r[0], r[1]);
        end();
      },
      end);
}

void RedisPresence::on_state(const dhl::RedisReply& counts, const dhl::RedisReply& ready) {
  std::map<std::string, dhl::Json> flags;
  for (std::size_t i = 0; i + 1 < ready.elements.size(); i += 2)
    flags.emplace(ready[i].str, parse(ready[i + 1].str).value_or(dhl::Json()));
  std::set<std::string> users;
  for (const auto& [id, c] : local_) users.insert(c.user);
  for (const std::string& u : users) {
    auto it = flags.find(u);
    note_ready(u, it == flags.end() ? std::nullopt : std::optional<dhl::Json>(it->second));
  }
  dhl::Json online = counts_json(counts);
  if (!last_online_ || *last_online_ != online) {
    host_.emit_to(dhl::Target{cfg_.nsp, {cfg_.authenticated_room}, {}, false, true}, "online",
                  online);
    last_online_ = std::move(online);
  }
  dhl::Json list = ready_json(ready);
  if (!last_ready_users_ || *last_ready_users_ != list) {
    host_.emit_to(dhl::Target{cfg_.nsp, {cfg_.ready_users_room}, {}, false, true}, "readyUsers",
                  list);
    last_ready_users_ = std::move(list);
  }
}

// {"teachers": N, "students": N} from HGETALL counts.
dhl::Json RedisPresence::counts_json(const dhl::RedisReply& flat) const {
  dhl::Json out = dhl::Json::object();
  for (const auto& [role, room] : cfg_.role_rooms) {
    int64_t n = 0;
    for (std::size_t i = 0; i + 1 < flat.elements.size(); i += 2)
      if (flat[i].str == role) n = std::stoll(flat[i + 1].str);
    out[room] = out[room].as_int() + std::max<int64_t>(n, 0);
  }
  return out;
}

dhl::Json RedisPresence::ready_json(const dhl::RedisReply& flat) {
  dhl::Json out = dhl::Json::array();
  for (std::size_t i = 0; i + 1 < flat.elements.size(); i += 2)
    out.push_back(dhl::Json::object(
        {{"id", flat[i].str}, {"topic", parse(flat[i + 1].str).value_or(dhl::Json())}}));
  return out;
}

// ---- Grace periods and dead nodes ---------------------------------------------------

void RedisPresence::expire() {
  expiry_.arm(kExpiryPeriod);
  run(lua::kExpire, {std::string(host_.node_id())}, [this](const dhl::RedisReply& r) {
    if (r[0].integer > 0) changed();
    if (r[1].integer == 0 || unsynced_) sync();
  });
}

// Writes this node's connections to Redis as they are now; every node's
// sockets then get `online` and `readyUsers` again (some may have missed
// theirs while Redis was away).
void RedisPresence::sync() {
  if (syncing_) return;
  syncing_ = true;
  unsynced_ = false;
  std::vector<std::string> args{std::string(host_.node_id()), std::to_string(cfg_.ready_grace_ms)};
  for (const auto& [socket, c] : local_) {
    args.push_back(socket);
    args.push_back(c.user);
    args.push_back(c.role);
  }
  std::size_t n = local_.size();
  run(
      lua::kSyncNode, std::move(args),
      [this, n](const dhl::RedisReply& r) {
        syncing_ = false;
        if (r.integer == 1)
          host_.notice("wrote this node's " + std::to_string(n) + " connections to Redis again");
        last_online_.reset();
        last_ready_users_.reset();
        if (r.integer == 1)
          changed();
        else
          refresh();
      },
      [this] {
        syncing_ = false;
        unsynced_ = true;
      });
}

void RedisPresence::drop_node(std::string_view node) {
  std::string id(node);
  run(lua::kDropNode, {id, std::to_string(cfg_.ready_grace_ms)},
      [this, id](const dhl::RedisReply& r) {
        if (r.integer > 0)
          host_.notice("node " + id + " left: " + std::to_string(r.integer) +
                       " users went offline");
        refresh();  // after this script: sees the state without the node
      });
}

}  // namespace presence
