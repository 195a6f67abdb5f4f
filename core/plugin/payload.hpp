// Payloads from plugins: checked before they reach a client, copied when
// they must outlive the plugin's call.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daheim/plugin.h"

namespace daheim::plugin {

// True when `p` is acceptable as event arguments or an ack: null or empty
// (no arguments), or UTF-8 JSON array text whose placeholders index its
// attachments, with non-null attachment pointers.
bool valid_args(const dhl_payload* p);
// True when `s` is non-empty UTF-8 (event names, rooms, error codes).
bool valid_name(dhl_str s);

inline std::string_view view(dhl_str s) {
  return s.ptr ? std::string_view(s.ptr, s.len) : "";
}
inline std::string_view args_text(const dhl_payload* p) {
  return p && p->json ? std::string_view(p->json, p->json_len) : std::string_view();
}
inline dhl_str str(std::string_view s) {
  return {s.data(), s.size()};
}

// The attachments of `p`, copied.
std::vector<std::string> copy_attachments(const dhl_payload* p);

// [{"error":"<code>"}]
std::string error_args(std::string_view code);

// A payload viewing `args` and `attachments` (which must outlive it).
struct PayloadView {
  PayloadView(std::string_view args, std::span<const std::string> attachments);
  std::vector<dhl_str> views;
  dhl_payload payload{};
};

}  // namespace daheim::plugin
