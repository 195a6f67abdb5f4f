// The authenticated user of a connection, from a verified token; attached to the socket.
#pragma once

#include <cstdint>
#include <string>

namespace daheim::auth {

struct User {
  std::string id;           // from VerifyOptions::user_id_claims (an integer id in decimal)
  std::string role;         // from VerifyOptions::role_claim, empty if absent
  std::string claims_json;  // the token's claims: the signed JSON text, verbatim
  int64_t expires_at = 0;   // `exp` in Unix seconds (rounded down), 0 if the token has none
  std::string kid;          // the kid of the key that verified the token (may be empty)
};

}  // namespace daheim::auth
