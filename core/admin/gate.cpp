#include "admin/gate.hpp"

#include <cjson/cJSON.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>

namespace daheim::admin {
namespace {

std::string member(const cJSON* object, const char* name) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(object, name);
  return cJSON_IsString(v) ? v->valuestring : "";
}

std::string random_hex(std::size_t bytes) {
  unsigned char raw[32];
  if (RAND_bytes(raw, static_cast<int>(bytes)) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    out += kHex[raw[i] >> 4];
    out += kHex[raw[i] & 15];
  }
  return out;
}

}  // namespace

Gate::Gate(const AdminOptions& options, loop::TimerQueue& timers)
    : options_(options),
      timers_(timers),
      tokens_(static_cast<double>(options.logins_per_minute)),
      refilled_(timers.now()) {}

bool Gate::take_attempt() {
  loop::TimePoint now = timers_.now();
  double per_ms = static_cast<double>(options_.logins_per_minute) / 60000.0;
  double elapsed = std::chrono::duration<double, std::milli>(now - refilled_).count();
  tokens_ = std::min(static_cast<double>(options_.logins_per_minute), tokens_ + elapsed * per_ms);
  refilled_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

std::string Gate::remember_new_session() {
  std::string id = random_hex(8);  // 16 hex digits, as the reference
  if (id.empty()) return id;
  if (sessions_.size() >= options_.max_sessions && !order_.empty()) {
    sessions_.erase(order_.front());
    order_.pop_front();
  }
  sessions_.insert(id);
  order_.push_back(id);
  return id;
}

Gate::Verdict Gate::check(std::string_view auth_json) {
  if (!options_.auth) return {};
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> auth(
      cJSON_ParseWithLength(auth_json.data(), auth_json.size()), cJSON_Delete);
  std::string session = member(auth.get(), "sessionId");
  if (!session.empty() && sessions_.count(session)) return {};
  const cJSON* password = cJSON_GetObjectItemCaseSensitive(auth.get(), "password");
  if (member(auth.get(), "username") == options_.auth->username && cJSON_IsString(password)) {
    if (!take_attempt()) {
      ++refused_;
      return {socketio::ConnectError{"too many attempts", {}}, {}};
    }
    if (bcrypt_verify(password->valuestring, options_.auth->password)) {
      std::string id = remember_new_session();
      if (!id.empty()) return {std::nullopt, id};
    }
  }
  ++refused_;
  return {socketio::ConnectError{"invalid credentials", {}}, {}};
}

}  // namespace daheim::admin
