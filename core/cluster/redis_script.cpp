#include "cluster/redis_script.hpp"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <vector>

namespace daheim::cluster {
namespace {

bool is_noscript(const redisReply* reply) {
  return reply && reply->type == REDIS_REPLY_ERROR &&
         std::string_view(reply->str, reply->len).starts_with("NOSCRIPT");
}

// [command, script-or-sha, numkeys, keys..., args...]
std::vector<std::string> eval_args(std::string_view command, std::string_view body,
                                   std::span<const std::string_view> keys,
                                   std::span<const std::string_view> args) {
  std::vector<std::string> out{std::string(command), std::string(body),
                               std::to_string(keys.size())};
  for (std::string_view k : keys) out.emplace_back(k);
  for (std::string_view a : args) out.emplace_back(a);
  return out;
}

std::vector<std::string_view> views(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

}  // namespace

std::string script_sha1(std::string_view script) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(script.data(), script.size(), md, &n, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return hex;
}

bool run_script(RedisClient& redis, std::string_view script, std::string_view sha,
                std::span<const std::string_view> keys, std::span<const std::string_view> args,
                RedisConnection::ReplyCallback callback) {
  auto eval = std::make_shared<std::vector<std::string>>(eval_args("EVAL", script, keys, args));
  std::vector<std::string> first = eval_args("EVALSHA", sha, keys, args);
  RedisClient* r = &redis;
  return redis.command(views(first), [r, eval, cb = std::move(callback)](const redisReply* reply) {
    if (!is_noscript(reply)) return cb(reply);
    std::vector<std::string_view> v = views(*eval);
    auto again = [eval, cb](const redisReply* second) { cb(second); };
    if (!r->command(v, again)) cb(nullptr);
  });
}

}  // namespace daheim::cluster
