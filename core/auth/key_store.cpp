#include "auth/key_store.hpp"

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "auth/json_parse.hpp"
#include "auth/jwk.hpp"

namespace daheim::auth {
namespace {

constexpr std::size_t kMaxKeyFileSize = 1 << 20;
constexpr int kMaxJwksDepth = 32;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads a whole (small) file. On failure sets `error` (without the path).
bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  out.clear();
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    if (out.size() + n > kMaxKeyFileSize) {
      OPENSSL_cleanse(out.data(), out.size());
      OPENSSL_cleanse(buf, sizeof buf);
      error = "larger than 1 MiB";
      return false;
    }
    out.append(buf, n);
  }
  OPENSSL_cleanse(buf, sizeof buf);
  if (std::ferror(f.get())) {
    OPENSSL_cleanse(out.data(), out.size());
    error = "read error";
    return false;
  }
  return true;
}

std::optional<Algorithm> config_alg(const std::string& text, std::string& error) {
  auto alg = parse_algorithm(text);
  if (!alg) error = "unsupported alg '" + text + "'";
  return alg;
}

bool load_secret(const KeyConfig::Secret& cfg, KeyStore& store, std::string& error) {
  auto alg = config_alg(cfg.alg, error);
  if (!alg) return false;
  if (!is_hmac(*alg)) {
    error = "alg must be HS256, HS384 or HS512, not " + cfg.alg;
    return false;
  }
  std::string secret;
  if (!read_file(cfg.path, secret, error)) return false;
  std::size_t len = secret.size();
  while (len > 0 && (secret[len - 1] == '\n' || secret[len - 1] == '\r')) --len;
  auto key = Key::from_secret(std::string_view(secret).substr(0, len), *alg, cfg.kid, error);
  OPENSSL_cleanse(secret.data(), secret.size());
  return key && store.add(std::move(*key), error);
}

bool load_pem(const KeyConfig::Pem& cfg, KeyStore& store, std::string& error) {
  if (cfg.alg.empty()) {
    error = "alg is required for a PEM key";
    return false;
  }
  auto alg = config_alg(cfg.alg, error);
  if (!alg) return false;
  std::string pem;
  if (!read_file(cfg.path, pem, error)) return false;
  auto key = Key::from_pem(pem, *alg, cfg.kid, error);
  return key && store.add(std::move(*key), error);
}

}  // namespace

std::optional<KeyStore> KeyStore::load(const KeyConfig& config, std::string& error) {
  KeyStore store;
  for (const auto& s : config.hmac_secret_files) {
    if (!load_secret(s, store, error)) {
      error = s.path + ": " + error;
      return std::nullopt;
    }
  }
  for (const auto& p : config.pem_files) {
    if (!load_pem(p, store, error)) {
      error = p.path + ": " + error;
      return std::nullopt;
    }
  }
  for (const auto& path : config.jwks_files) {
    std::string text;
    if (!read_file(path, text, error)) {
      error = path + ": " + error;
      return std::nullopt;
    }
    bool ok = store.add_jwks(text, path, error);
    OPENSSL_cleanse(text.data(), text.size());  // may hold oct secrets
    if (!ok) return std::nullopt;
  }
  return store;
}

bool KeyStore::add(Key key, std::string& error) {
  if (!key.kid().empty() && find(key.kid()) != nullptr) {
    error = "duplicate kid '" + printable(key.kid()) + "'";
    return false;
  }
  keys_.push_back(std::move(key));
  return true;
}

bool KeyStore::add_jwks(std::string_view json, std::string_view source, std::string& error) {
  std::string prefix = std::string(source) + ": ";
  CjsonPtr doc = parse_json(std::string(json), kMaxJwksDepth);
  if (!doc) {
    error = prefix + "not valid JSON";
    return false;
  }
  const cJSON* keys = cJSON_GetObjectItemCaseSensitive(doc.get(), "keys");
  if (!cJSON_IsObject(doc.get()) || !cJSON_IsArray(keys)) {
    error = prefix + "not a JWKS (an object with a \"keys\" array)";
    return false;
  }
  KeyStore added = *this;
  int index = 0;
  std::size_t count = 0;
  for (const cJSON* jwk = keys->child; jwk != nullptr; jwk = jwk->next, ++index) {
    std::optional<Key> key;
    std::string what;
    JwkResult r = key_from_jwk(jwk, key, what);
    if (r == JwkResult::skipped) continue;
    if (r == JwkResult::key && added.add(std::move(*key), what)) {
      ++count;
      continue;
    }
    error = prefix + "key #" + std::to_string(index) + ": " + what;
    return false;
  }
  if (count == 0) {
    error = prefix + "holds no signing keys";
    return false;
  }
  keys_ = std::move(added.keys_);
  return true;
}

const Key* KeyStore::find(std::string_view kid) const {
  if (kid.empty()) return nullptr;
  for (const auto& k : keys_) {
    if (k.kid() == kid) return &k;
  }
  return nullptr;
}

}  // namespace daheim::auth
