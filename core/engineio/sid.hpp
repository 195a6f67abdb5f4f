// Session and socket ids: 20 characters of base64url from 15 CSPRNG bytes.
#pragma once

#include <string>

namespace daheim::engineio {

inline constexpr std::size_t kIdLength = 20;

// Aborts the process if the CSPRNG fails: ids must never be predictable.
std::string generate_id();

}  // namespace daheim::engineio
