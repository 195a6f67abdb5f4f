// base64url without padding (RFC 4648 §5, RFC 7515 §2), as JWS compact serialisation uses it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace daheim::auth {

std::string base64url_encode(std::string_view in);
// Strict: only the URL-safe alphabet, no '=' padding, no whitespace, no impossible length
// (n % 4 == 1), and the unused trailing bits must be zero (one canonical text per byte string).
std::optional<std::string> base64url_decode(std::string_view in);

}  // namespace daheim::auth
