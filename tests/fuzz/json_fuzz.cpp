// libFuzzer target for the JSON text handling on both sides of the plugin ABI: core's scanner
// (core/socketio/json_text: scan, valid_utf8, unescape) and the SDK's dhl::Json::parse / dump.
//
// The first input byte gives the attachment count (0-3) for placeholders; the rest is the text.
// Checked:
//   - the two parsers agree on what is one valid JSON value (unless one refuses the depth);
//   - a scanned shape lies inside the text, and an array's first element and rest splice back;
//   - every scanned string unescapes to valid UTF-8;
//   - dump() of a parsed value is valid JSON to core and a fixed point of parse + dump,
//     placeholders included (Binary values dump to placeholders and parse back).
// (A value parsed with attachments can hold both Binary values and literal placeholder objects
// whose num was out of range; dumping renumbers the former, so the latter may then collide.
// That ambiguity is the protocol's own: such values are only dumped, not round-tripped.)
//
// Run: ./scripts/fuzz.sh SECONDS, or see meson.build.
#include <daheim/json.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/json_text.hpp"

namespace {

namespace json = daheim::socketio::json;

void check_shape(std::string_view text, const json::Shape& s) {
  if (s.begin > s.end || s.end > text.size()) std::abort();
  if (s.kind == json::Kind::String) {
    std::string out;
    json::unescape(text.substr(s.begin + 1, s.end - s.begin - 2), out);
    if (!json::valid_utf8(out)) std::abort();
  }
  if (s.kind != json::Kind::Array || s.first == json::Kind::None) return;
  if (s.first_begin < s.begin || s.first_end > s.end || s.rest > s.end) std::abort();
  // "[" + rest is the array without its first element: still one valid array.
  std::string tail = "[" + std::string(text.substr(s.rest, s.end - s.rest));
  json::Shape t;
  if (json::scan(tail, t) != json::ScanError::None || t.kind != json::Kind::Array) std::abort();
}

std::string dump_checked(const dhl::Json& value, std::vector<std::string>& attachments) {
  std::string text = value.dump(&attachments);
  json::Shape s;
  if (json::scan(text, s) != json::ScanError::None) std::abort();
  return text;
}

void round_trip(const dhl::Json& value) {
  std::vector<std::string> attachments;
  std::string once = dump_checked(value, attachments);
  std::vector<std::string_view> views(attachments.begin(), attachments.end());
  auto again = dhl::Json::parse(once, views);
  if (!again) std::abort();
  std::vector<std::string> attachments2;
  if (dump_checked(*again, attachments2) != once || attachments2 != attachments) std::abort();
}

// How often the text names "_placeholder" (an upper bound of the placeholders in it).
std::size_t placeholders(std::string_view text) {
  std::size_t n = 0;
  for (auto at = text.find("\"_placeholder\""); at != std::string_view::npos;
       at = text.find("\"_placeholder\"", at + 1))
    ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::size_t attachments = data[0] % 4;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  static const std::array<std::string_view, 3> kBytes = {"\x01\x02", "", "bytes"};
  std::span<const std::string_view> atts(kBytes.data(), attachments);

  bool utf8 = json::valid_utf8(text);
  json::ScanError core = json::ScanError::Syntax;
  json::Shape shape;
  if (utf8) {
    core = json::scan(text, shape);
    if (core == json::ScanError::None) check_shape(text, shape);
    json::Shape with_placeholders;
    json::scan(text, with_placeholders, true, attachments);
  }

  std::string error;
  auto sdk = dhl::Json::parse(text, {}, &error);
  bool too_deep = core == json::ScanError::TooDeep || error.find("deep") != std::string::npos;
  if (!too_deep && sdk.has_value() != (core == json::ScanError::None)) std::abort();
  if (!sdk && error.empty()) std::abort();  // a refusal says where
  if (sdk) round_trip(*sdk);
  // With attachments, placeholders become Binary values; they dump back to placeholders.
  if (auto with_binary = dhl::Json::parse(text, atts)) {
    if (!sdk) std::abort();
    std::vector<std::string> dumped;
    dump_checked(*with_binary, dumped);
    if (dumped.size() == placeholders(text)) round_trip(*with_binary);
  }
  return 0;
}
