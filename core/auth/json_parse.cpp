#include "auth/json_parse.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace daheim::auth {
namespace {

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not valid (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (text.size() - i < n) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return n;
}

}  // namespace

bool json_text_acceptable(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t n = utf8_sequence(text, i);
      if (n == 0) return false;
      i += n;
      escaped = false;
      continue;
    }
    ++i;
    if (c < 0x20) {
      if (in_string || (c != '\t' && c != '\n' && c != '\r')) return false;
      continue;
    }
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

CjsonPtr parse_json(const std::string& text, int max_depth) {
  if (!json_text_acceptable(text, max_depth)) return nullptr;
  // cJSON's require_null_terminated wants the terminating NUL inside the given length; a
  // std::string always has one at data()[size()], and the text holds no other NUL (checked).
  const char* end = nullptr;
  return CjsonPtr(cJSON_ParseWithLengthOpts(text.c_str(), text.size() + 1, &end, 1));
}

bool has_duplicate_member(const cJSON* object) {
  std::vector<const char*> names;
  for (const cJSON* item = object->child; item != nullptr; item = item->next) {
    names.push_back(item->string != nullptr ? item->string : "");
  }
  auto less = [](const char* a, const char* b) { return std::strcmp(a, b) < 0; };
  std::sort(names.begin(), names.end(), less);
  return std::adjacent_find(names.begin(), names.end(), [](const char* a, const char* b) {
           return std::strcmp(a, b) == 0;
         }) != names.end();
}

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 40) out += "...";
  return out;
}

}  // namespace daheim::auth
