// Internal: bounded JSON parsing for untrusted token parts and key files (cJSON underneath).
#pragma once

#include <cJSON.h>

#include <memory>
#include <string>
#include <string_view>

namespace daheim::auth {

struct CjsonDeleter {
  void operator()(cJSON* p) const { cJSON_Delete(p); }
};
using CjsonPtr = std::unique_ptr<cJSON, CjsonDeleter>;

// True when `text` is valid UTF-8, holds no raw control characters other than JSON whitespace
// (so no NUL either) and its arrays/objects nest at most `max_depth` deep. A linear pre-check
// before cJSON, which recurses once per nesting level.
bool json_text_acceptable(std::string_view text, int max_depth);

// Parses the whole of `text` (only whitespace may follow the value); nullptr when the text is
// not acceptable (above) or not JSON.
CjsonPtr parse_json(const std::string& text, int max_depth);

// True when an object has two members with the same name (RFC 7519 §4 lets us refuse those).
bool has_duplicate_member(const cJSON* object);

// For error messages about file contents: at most 40 characters, non-printable ones as '?'.
std::string printable(std::string_view text);

}  // namespace daheim::auth
