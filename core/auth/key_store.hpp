// An immutable-once-built set of verification keys. Reloading (SIGHUP) builds a new KeyStore
// with load() and hands it to Verifier::set_keys(); a failed load keeps the old one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/key.hpp"
#include "auth/key_config.hpp"

namespace daheim::auth {

class KeyStore {
 public:
  // Reads every configured file. On failure returns nullopt and sets `error` to one line naming
  // the file and what is wrong (never the secret). No keys configured gives an empty store,
  // which refuses every token with unknown_key.
  static std::optional<KeyStore> load(const KeyConfig& config, std::string& error);

  // Building blocks of load(), also for tests and fuzzers. On failure the store is unchanged.
  // Refuses a second key with the same non-empty kid.
  bool add(Key key, std::string& error);
  // A JWKS document; `source` (a file name) prefixes the error.
  bool add_jwks(std::string_view json, std::string_view source, std::string& error);

  // The key with this (non-empty) kid, or nullptr.
  const Key* find(std::string_view kid) const;
  const std::vector<Key>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<Key> keys_;
};

}  // namespace daheim::auth
