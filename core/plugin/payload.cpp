#include "plugin/payload.hpp"

#include "socketio/json_text.hpp"

namespace daheim::plugin {

bool valid_args(const dhl_payload* p) {
  if (p == nullptr) return true;
  if (p->attachment_count > 0 && p->attachments == nullptr) return false;
  for (std::size_t i = 0; i < p->attachment_count; ++i)
    if (p->attachments[i].ptr == nullptr && p->attachments[i].len > 0) return false;
  if (p->json_len == 0) return p->attachment_count == 0;
  if (p->json == nullptr) return false;
  std::string_view text(p->json, p->json_len);
  if (!socketio::json::valid_utf8(text)) return false;
  socketio::json::Shape shape;
  if (socketio::json::scan(text, shape, true, p->attachment_count) !=
      socketio::json::ScanError::None)
    return false;
  return shape.kind == socketio::json::Kind::Array;
}

bool valid_name(dhl_str s) {
  return s.ptr != nullptr && s.len > 0 && socketio::json::valid_utf8({s.ptr, s.len});
}

std::vector<std::string> copy_attachments(const dhl_payload* p) {
  std::vector<std::string> out;
  if (p == nullptr) return out;
  out.reserve(p->attachment_count);
  for (std::size_t i = 0; i < p->attachment_count; ++i)
    out.emplace_back(p->attachments[i].ptr ? p->attachments[i].ptr : "", p->attachments[i].len);
  return out;
}

std::string error_args(std::string_view code) {
  std::string out = "[{\"error\":";
  socketio::json::append_string(out, code);
  out += "}]";
  return out;
}

PayloadView::PayloadView(std::string_view args, std::span<const std::string> attachments) {
  views.reserve(attachments.size());
  for (const std::string& a : attachments) views.push_back(str(a));
  payload = {args.data(), args.size(), views.data(), views.size()};
}

}  // namespace daheim::plugin
