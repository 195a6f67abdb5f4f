#include "socketio/session_store.hpp"

#include <algorithm>

#include "socketio/json_text.hpp"

namespace daheim::socketio {

uint64_t tail_hash(std::string_view text) {
  uint64_t h = 14695981039346656037ULL;  // FNV-1a
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h | 1;
}

uint64_t volatile_tail_of(std::string_view args) {
  std::size_t i = args.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return 0;
  std::optional<std::string> last =
      args[i] == '"' ? json::last_string_element("[" + std::string(args.substr(i)) + "]")
                     : json::last_string_element(args);
  return last ? tail_hash(*last) : 0;
}

bool session_selects(const BroadcastOptions& opts, const std::vector<std::string>& rooms) {
  auto in = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  bool included = opts.rooms.empty() || std::any_of(rooms.begin(), rooms.end(), [&](const auto& r) {
                    return in(opts.rooms, r);
                  });
  return included && std::none_of(rooms.begin(), rooms.end(),
                                  [&](const auto& r) { return in(opts.except, r); });
}

}  // namespace daheim::socketio
