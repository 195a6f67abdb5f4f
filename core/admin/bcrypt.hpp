// bcrypt password hashes ($2a$, $2b$, $2y$; Provos and Mazieres, 1999), as
// the admin UI's basic authentication stores them: an expensive key setup of
// Blowfish (eksblowfish) with the cost, the salt and the password.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace daheim::admin {

struct BcryptHash {
  char minor = 'b';    // 'a', 'b' or 'y' (they hash alike below 255 bytes)
  int cost = 10;       // 2^cost rounds of the key schedule
  std::string salt;    // 16 bytes
  std::string digest;  // 23 bytes
};

// Parses "$2b$10$<22 salt chars><31 hash chars>"; nullopt when malformed
// (also $2x$, whose hashes come from a known-broken implementation).
std::optional<BcryptHash> parse_bcrypt(std::string_view text);

// The 23-byte digest of `password` (its first 72 bytes) under cost and salt.
std::string bcrypt_digest(std::string_view password, int cost, std::string_view salt);

// The full hash text, as parse_bcrypt reads it.
std::string bcrypt_hash(std::string_view password, int cost, std::string_view salt,
                        char minor = 'b');

// Whether `password` matches `hash` (constant time in the digest comparison).
bool bcrypt_verify(std::string_view password, const BcryptHash& hash);

}  // namespace daheim::admin
