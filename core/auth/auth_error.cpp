#include "auth/auth_error.hpp"

namespace daheim::auth {

std::string_view code(AuthError error) {
  switch (error) {
    case AuthError::missing_token:
      return "missing_token";
    case AuthError::malformed:
      return "malformed";
    case AuthError::algorithm_not_allowed:
      return "algorithm_not_allowed";
    case AuthError::unknown_key:
      return "unknown_key";
    case AuthError::invalid_signature:
      return "invalid_signature";
    case AuthError::token_expired:
      return "token_expired";
    case AuthError::token_not_yet_valid:
      return "token_not_yet_valid";
    case AuthError::invalid_issuer:
      return "invalid_issuer";
    case AuthError::invalid_audience:
      return "invalid_audience";
  }
  return "malformed";
}

}  // namespace daheim::auth
