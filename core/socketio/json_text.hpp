// Allocation-free checks over JSON text. The Socket.IO layer keeps payloads as
// the text it received and only needs to know that the text is valid JSON,
// what shape its top-level value has, and where the first array element ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace daheim::socketio::json {

enum class Kind : uint8_t { None, Object, Array, String, Number, True, False, Null };

// Deeper nesting is refused (the scanner recurses once per level).
inline constexpr std::size_t kMaxDepth = 256;

// The shape of one scanned JSON value. Offsets index the scanned text.
struct Shape {
  Kind kind = Kind::None;
  std::size_t begin = 0;  // the value, without surrounding whitespace
  std::size_t end = 0;
  // Arrays only: the first element (kind None when the array is empty) and
  // `rest`, such that "[" + text[rest, end) is the array without its first
  // element.
  Kind first = Kind::None;
  std::size_t first_begin = 0;
  std::size_t first_end = 0;
  std::size_t rest = 0;
};

enum class ScanError : uint8_t {
  None,
  Syntax,       // not exactly one valid JSON value
  TooDeep,      // nested deeper than kMaxDepth
  Placeholder,  // {"_placeholder":true} without a "num" in [0, attachments)
};

// Scans `text` as exactly one JSON value (RFC 8259; surrounding whitespace
// allowed). The text must already be valid UTF-8. With `check_placeholders`,
// every object whose "_placeholder" member is `true` must have a "num" member
// that is an integer in [0, attachments).
ScanError scan(std::string_view text, Shape& shape, bool check_placeholders = false,
               std::size_t attachments = 0);

// True if `text` is well-formed UTF-8 (no overlongs, surrogates or code
// points above U+10FFFF).
bool valid_utf8(std::string_view text);

// Appends `value` as a JSON string literal (quoted and escaped).
void append_string(std::string& out, std::string_view value);

// Decodes the body of a scanned JSON string literal (the text between the
// quotes) into UTF-8. Lone surrogate escapes become U+FFFD.
void unescape(std::string_view body, std::string& out);

// The top-level member `key` of a JSON object text that scan() accepted, if
// it is a string: its decoded value. nullopt when absent or not a string.
std::optional<std::string> string_member(std::string_view object, std::string_view key);

// The last element of a JSON array text that scan() accepted, if it is a
// string: its decoded value. nullopt otherwise (not an array, empty, or the
// last element is not a string).
std::optional<std::string> last_string_element(std::string_view array);

}  // namespace daheim::socketio::json
