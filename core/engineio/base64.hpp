// Standard base64 (RFC 4648 §4) as Engine.IO uses it for binary over polling.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace daheim::engineio {

void base64_encode_append(std::string_view in, std::string& out);
std::string base64_encode(std::string_view in);
// Returns nullopt for characters outside the alphabet or bad padding.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace daheim::engineio
