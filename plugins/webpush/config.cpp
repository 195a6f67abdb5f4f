#include "config.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace webpush {

namespace {

[[noreturn]] void bad(std::string_view key, std::string_view what) {
  throw std::runtime_error("config: " + std::string(key) + ": " + std::string(what));
}

std::string read_file(const std::string& path, std::string_view key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bad(key, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

void check_keys(const dhl::Json& obj, std::string_view where,
                const std::set<std::string_view>& known) {
  for (const auto& [k, v] : obj.members())
    if (!known.count(k)) bad(std::string(where) + k, "unknown key");
}

int64_t integer(const dhl::Json& cfg, std::string_view key, int64_t lo, int64_t hi,
                int64_t fallback) {
  const dhl::Json* v = cfg.find(key);
  if (v == nullptr) return fallback;
  if (!v->is_int() || v->as_int() < lo || v->as_int() > hi)
    bad(key, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v->as_int();
}

std::string path_value(const dhl::Json& cfg, std::string_view key, std::string fallback) {
  const dhl::Json* v = cfg.find(key);
  if (v == nullptr) return fallback;
  if (!v->is_string() || !v->as_string().starts_with("/")) bad(key, "must start with /");
  return std::string(v->as_string());
}

void read_vapid(const dhl::Json& v, Config& c) {
  if (!v.is_object()) bad("vapid", "is required: {subject, privateKeyFile[, publicKey]}");
  check_keys(v, "vapid.", {"subject", "privateKeyFile", "publicKey"});
  std::string_view subject = v["subject"].as_string();
  if (!subject.starts_with("mailto:") && !subject.starts_with("https://"))
    bad("vapid.subject", "must be a mailto: or https: URL (the push service's contact)");
  c.vapid_subject = std::string(subject);
  if (!v["privateKeyFile"].is_string() || v["privateKeyFile"].as_string().empty())
    bad("vapid.privateKeyFile", "is required (a PEM EC key on P-256, or a base64url key)");
  c.vapid_key_file = std::string(v["privateKeyFile"].as_string());
  c.vapid_public_key = std::string(v["publicKey"].as_string());
}

void read_credential(const dhl::Json& cfg, Config& c) {
  constexpr std::size_t kMinSecret = 32;
  if (const dhl::Json* f = cfg.find("bearerSecretFile")) {
    if (!f->is_string()) bad("bearerSecretFile", "must be a path");
    c.bearer = read_file(std::string(f->as_string()), "bearerSecretFile");
    if (c.bearer.size() < kMinSecret) bad("bearerSecretFile", "holds fewer than 32 bytes");
  }
  if (const dhl::Json* d = cfg.find("devBearerSecret")) {
    if (!c.bearer.empty()) bad("devBearerSecret", "give it or bearerSecretFile, not both");
    if (d->as_string().size() < kMinSecret) bad("devBearerSecret", "must be 32 characters or more");
    c.bearer = std::string(d->as_string());
  }
}

void read_delivery(const dhl::Json& cfg, Config& c) {
  DeliveryConfig& d = c.delivery;
  d.workers = static_cast<unsigned>(integer(cfg, "workers", 1, 64, 2));
  d.max_queue = static_cast<std::size_t>(integer(cfg, "maxQueue", 1, 10000000, 10000));
  d.max_attempts = static_cast<unsigned>(integer(cfg, "maxAttempts", 1, 20, 5));
  d.retry_base = std::chrono::milliseconds(integer(cfg, "retryBaseMs", 1, 3600000, 1000));
  d.retry_max = std::chrono::milliseconds(integer(cfg, "retryMaxMs", 1, 86400000, 60000));
  if (d.retry_max < d.retry_base) bad("retryMaxMs", "must not be below retryBaseMs");
  d.http.timeout_ms = static_cast<long>(integer(cfg, "timeoutMs", 100, 300000, 10000));
  d.http.connect_timeout_ms = std::min<long>(d.http.timeout_ms, 5000);
  if (const dhl::Json* ca = cfg.find("caFile")) {
    if (!ca->is_string() || ca->as_string().empty()) bad("caFile", "must be a path");
    d.http.ca_file = std::string(ca->as_string());
    std::ifstream probe(d.http.ca_file);
    if (!probe) bad("caFile", "cannot read " + d.http.ca_file);
  }
  if (const dhl::Json* h = cfg.find("allowHttp")) {
    if (!h->is_bool()) bad("allowHttp", "must be true or false");
    c.allow_http = d.http.allow_http = h->as_bool();
  }
}

}  // namespace

bool valid_urgency(std::string_view u) {
  return u == "very-low" || u == "low" || u == "normal" || u == "high";
}

Config read_config(const dhl::Json& cfg) {
  if (!cfg.is_object()) bad("(plugin config)", "expected an object with at least \"vapid\"");
  check_keys(cfg, "",
             {"vapid",
              "bearerSecretFile",
              "devBearerSecret",
              "path",
              "statsPath",
              "namespace",
              "ttl",
              "urgency",
              "maxPerUser",
              "maxSubscriptions",
              "maxUsers",
              "maxBody",
              "workers",
              "maxQueue",
              "maxAttempts",
              "retryBaseMs",
              "retryMaxMs",
              "timeoutMs",
              "caFile",
              "allowHttp",
              "redisKey"});
  Config c;
  read_vapid(cfg["vapid"], c);
  read_credential(cfg, c);
  c.path = path_value(cfg, "path", c.path);
  c.stats_path = path_value(cfg, "statsPath", c.stats_path);
  c.nsp = path_value(cfg, "namespace", c.nsp);
  c.ttl_s = integer(cfg, "ttl", 0, kMaxTtl, c.ttl_s);
  if (const dhl::Json* u = cfg.find("urgency")) {
    if (!valid_urgency(u->as_string())) bad("urgency", "very-low, low, normal or high");
    c.urgency = std::string(u->as_string());
  }
  c.max_per_user = static_cast<std::size_t>(integer(cfg, "maxPerUser", 1, 100, 10));
  c.max_subscriptions =
      static_cast<std::size_t>(integer(cfg, "maxSubscriptions", 1, 10000000, 100000));
  c.max_users = static_cast<std::size_t>(integer(cfg, "maxUsers", 1, 100000, 1000));
  c.max_body = static_cast<std::size_t>(integer(cfg, "maxBody", 64, 64 << 20, 65536));
  if (const dhl::Json* k = cfg.find("redisKey")) {
    if (!k->is_string() || k->as_string().empty() || k->as_string().size() > 128)
      bad("redisKey", "must be a string of 1 to 128 bytes");
    c.redis_key = std::string(k->as_string());
  }
  read_delivery(cfg, c);
  return c;
}

Vapid load_vapid(const Config& c) {
  std::string text = read_file(c.vapid_key_file, "vapid.privateKeyFile");
  std::optional<EcKey> key;
  if (text.starts_with("-----BEGIN")) {
    std::string error;
    key = EcKey::from_pem(text, error);
    if (!key) bad("vapid.privateKeyFile", c.vapid_key_file + ": " + error);
    if (!c.vapid_public_key.empty() && base64url_encode(key->public_bytes()) != c.vapid_public_key)
      bad("vapid.publicKey", "does not belong to the private key in " + c.vapid_key_file);
  } else {
    std::optional<Bytes> priv = base64url_decode(text);
    std::optional<Bytes> pub = base64url_decode(c.vapid_public_key);
    if (!priv || priv->size() != 32)
      bad("vapid.privateKeyFile", c.vapid_key_file + " holds neither PEM nor a base64url key");
    if (c.vapid_public_key.empty())
      bad("vapid.publicKey", "is required with a base64url private key");
    if (!pub || !(key = EcKey::from_raw(*priv, *pub)))
      bad("vapid.publicKey", "is not the P-256 public key of the private key");
  }
  return Vapid(std::move(*key), c.vapid_subject);
}

}  // namespace webpush
