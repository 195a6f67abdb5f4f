#include "auth_middleware/authenticator.hpp"

#include <cjson/cJSON.h>

#include <fmt/format.h>
#include <chrono>

#include "auth/key_store.hpp"
#include "log/log.hpp"

namespace daheim::auth_middleware {
namespace {

constexpr uint32_t kUserSlot = 0x61750000;  // "au"
constexpr std::size_t kMaxTrackedAddresses = 100000;

}  // namespace

// A socket's user and the timer that ends it with the token.
struct SocketAuth {
  SocketAuth(loop::TimerQueue& timers, auth::User u, std::function<void()> on_expiry)
      : user(std::move(u)), expiry(timers, std::move(on_expiry)) {}
  auth::User user;
  loop::Timer expiry;
};

namespace {

SocketAuth* state_of(const socketio::Socket& socket) {
  return static_cast<SocketAuth*>(socket.slot(kUserSlot));
}

int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::optional<auth::KeyStore> load_keys(const AuthConfig& config, std::string& error) {
  auto store = auth::KeyStore::load(config.keys, error);
  if (!store || config.dev_secret.empty()) return store;
  auto key = auth::Key::from_secret(config.dev_secret, auth::Algorithm::HS256, "", error);
  if (!key || !store->add(std::move(*key), error)) {
    error = "auth.devSecret: " + error;
    return std::nullopt;
  }
  return store;
}

std::string auth_payload_token(std::string_view auth_json) {
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(
      cJSON_ParseWithLength(auth_json.data(), auth_json.size()), cJSON_Delete);
  const cJSON* token = cJSON_GetObjectItemCaseSensitive(root.get(), "token");
  return cJSON_IsString(token) ? std::string(token->valuestring) : std::string();
}

}  // namespace

std::unique_ptr<Authenticator> Authenticator::create(const AuthConfig& config,
                                                     loop::TimerQueue& timers, std::string& error) {
  auto store = load_keys(config, error);
  if (!store) return nullptr;
  if (!config.dev_secret.empty())
    log::warning("auth: a development secret is configured; never use it in production");
  auto keys = std::make_shared<const auth::KeyStore>(std::move(*store));
  return std::unique_ptr<Authenticator>(new Authenticator(config, timers, std::move(keys)));
}

Authenticator::Authenticator(const AuthConfig& config, loop::TimerQueue& timers,
                             std::shared_ptr<const auth::KeyStore> keys)
    : config_(config),
      timers_(timers),
      verifier_(std::move(keys), config.verify),
      connect_rate_(static_cast<uint32_t>(config.connects_per_second_per_user),
                    static_cast<uint32_t>(config.connect_burst_per_user)),
      reaper_(timers, [this] { retired_.clear(); }),
      connect_rate_sweeper_(timers, [this] { sweep_connect_rate(); }),
      failure_sweeper_(timers, [this] { sweep_failures(); }) {}

Authenticator::~Authenticator() = default;

void Authenticator::install(socketio::Namespace& nsp) {
  nsp.use([this](socketio::Socket& socket) { return check(socket); });
}

const auth::User* Authenticator::user_of(const socketio::Socket& socket) {
  SocketAuth* state = state_of(socket);
  return state ? &state->user : nullptr;
}

int64_t Authenticator::now_unix() const {
  return unix_ms() / 1000;
}

std::variant<auth::User, auth::AuthError> Authenticator::verify(std::string_view token,
                                                                std::string_view audience) const {
  if (audience.empty()) return verifier_.verify(token, now_unix());
  auth::VerifyOptions options = verifier_.options();
  options.audiences = {std::string(audience)};
  return auth::Verifier(verifier_.keys(), std::move(options)).verify(token, now_unix());
}

std::string Authenticator::token_of(const socketio::Socket& socket) const {
  if (config_.from_query) {
    if (auto t = socket.handshake().query_param("access_token")) return std::string(*t);
  }
  if (config_.from_auth_payload) return auth_payload_token(socket.auth());
  return {};
}

std::optional<socketio::ConnectError> Authenticator::check(socketio::Socket& socket) {
  const std::string address(socket.handshake().address());
  if (rate_limited(address)) {
    ++stats_.refusals[AuthStats::kRateLimited];
    return socketio::ConnectError{"unauthorized", R"({"code":"rate_limited"})"};
  }
  auto result = verifier_.verify(token_of(socket), now_unix());
  if (auto* error = std::get_if<auth::AuthError>(&result)) {
    record_failure(address);
    return refuse(socket, *error);
  }
  auto& user = std::get<auth::User>(result);
  if (!take_connect(user.id)) {
    ++stats_.connects_rate_limited;
    log::debug("auth: refused {} of user {}: auth.connectsPerSecondPerUser ({}) passed",
               socket.id(), user.id, config_.connects_per_second_per_user);
    return socketio::ConnectError{"Too many connects", R"({"code":"too_many_connects"})"};
  }
  if (auto it = sockets_per_user_.find(user.id);
      it != sockets_per_user_.end() && it->second >= config_.max_sockets_per_user) {
    ++stats_.too_many_sockets;
    log::info("auth: refused {} of user {}: maxSocketsPerUser ({}) connected", socket.id(), user.id,
              config_.max_sockets_per_user);
    return socketio::ConnectError{"Too many sockets", R"({"code":"too_many_sockets"})"};
  }
  ++stats_.accepted;
  attach(socket, std::move(user));
  return std::nullopt;
}

// auth.connectsPerSecondPerUser; the buckets that are full again are forgotten within two
// full_after() of the user's last CONNECT.
bool Authenticator::take_connect(const std::string& user_id) {
  bool ok = connect_rate_.take(user_id, timers_.now());
  stats_.connect_rate_users = connect_rate_.tracked();
  if (stats_.connect_rate_users != 0 && !connect_rate_sweeper_.armed())
    connect_rate_sweeper_.arm(connect_rate_.full_after());
  return ok;
}

void Authenticator::sweep_connect_rate() {
  connect_rate_.sweep(timers_.now());
  stats_.connect_rate_users = connect_rate_.tracked();
  if (stats_.connect_rate_users != 0) connect_rate_sweeper_.arm(connect_rate_.full_after());
}

socketio::ConnectError Authenticator::refuse(socketio::Socket& socket, auth::AuthError error) {
  ++stats_.refusals[static_cast<std::size_t>(error)];
  log::info("auth: refused {} on {} from {}: {}", socket.id(), socket.nsp().name(),
            socket.handshake().address(), auth::code(error));
  return {"unauthorized", fmt::format(R"({{"code":"{}"}})", auth::code(error))};
}

void Authenticator::attach(socketio::Socket& socket, auth::User user) {
  std::string id(socket.id());
  socketio::Namespace* nsp = &socket.nsp();
  auto* state = new SocketAuth(timers_, std::move(user), [this, nsp, id] {
    socketio::Socket* s = nsp->socket(id);
    if (!s) return;
    ++stats_.expired_disconnects;
    log::info("auth: token of {} expired", id);
    s->emit("unauthorized", R"([{"code":"token_expired"}])");
    s->disconnect_because(socketio::DisconnectReason::TokenExpired);
  });
  socket.set_slot(kUserSlot, state);
  ++sockets_per_user_[state->user.id];
  // Freed from the loop later: the disconnect may come from the expiry timer
  // that the state owns.
  socket.on_disconnect([this](socketio::Socket& s, socketio::DisconnectReason) {
    if (auto it = sockets_per_user_.find(state_of(s)->user.id);
        it != sockets_per_user_.end() && --it->second == 0)
      sockets_per_user_.erase(it);
    retired_.emplace_back(state_of(s));
    s.set_slot(kUserSlot, nullptr);
    reaper_.arm(loop::Millis(0));
  });
  arm_expiry(socket);
}

// The socket ends when its token would no longer be accepted.
void Authenticator::arm_expiry(socketio::Socket& socket) {
  SocketAuth* state = state_of(socket);
  if (!state || state->user.expires_at == 0) return;
  int64_t due_ms = (state->user.expires_at + config_.verify.leeway_s) * 1000 - unix_ms();
  state->expiry.arm(loop::Millis(std::max<int64_t>(due_ms, 0)));
}

std::optional<std::string_view> Authenticator::refresh(socketio::Socket& socket,
                                                       std::string_view token) {
  SocketAuth* state = state_of(socket);
  if (!state) return auth::code(auth::AuthError::missing_token);
  auto result = verifier_.verify(token, now_unix());
  if (auto* error = std::get_if<auth::AuthError>(&result)) return auth::code(*error);
  auto& user = std::get<auth::User>(result);
  if (user.id != state->user.id) return "user_mismatch";
  state->user = std::move(user);
  arm_expiry(socket);
  return std::nullopt;
}

bool Authenticator::rate_limited(const std::string& address) {
  auto it = failures_.find(address);
  if (it == failures_.end()) return false;
  if (unix_ms() - it->second.window_start_ms >= config_.failure_window_ms) {
    failures_.erase(it);
    stats_.failure_addresses = failures_.size();
    return false;
  }
  return it->second.count >= config_.max_failures;
}

void Authenticator::record_failure(const std::string& address) {
  int64_t now = unix_ms();
  if (failures_.size() >= kMaxTrackedAddresses) {
    std::erase_if(failures_, [&](const auto& kv) {
      return now - kv.second.window_start_ms >= config_.failure_window_ms;
    });
    if (failures_.size() >= kMaxTrackedAddresses) failures_.clear();
  }
  Failures& f = failures_[address];
  if (f.count == 0 || now - f.window_start_ms >= config_.failure_window_ms) f = {now, 0};
  ++f.count;
  stats_.failure_addresses = failures_.size();
  if (!failure_sweeper_.armed()) failure_sweeper_.arm(loop::Millis(config_.failure_window_ms));
}

// An address whose window has passed is forgotten (within two windows of its first failure),
// not kept until 100,000 addresses are tracked.
void Authenticator::sweep_failures() {
  int64_t now = unix_ms();
  std::erase_if(failures_, [&](const auto& kv) {
    return now - kv.second.window_start_ms >= config_.failure_window_ms;
  });
  failures_.rehash(0);
  stats_.failure_addresses = failures_.size();
  if (!failures_.empty()) failure_sweeper_.arm(loop::Millis(config_.failure_window_ms));
}

bool Authenticator::reload(const AuthConfig& config, std::string& error) {
  auto store = load_keys(config, error);
  if (!store) return false;
  verifier_.set_keys(std::make_shared<const auth::KeyStore>(std::move(*store)));
  return true;
}

}  // namespace daheim::auth_middleware
