// The in-place HTTP/1.1 parser of our own long-polling handling
// (core/transport/http1_parser): arbitrary bytes, read in two parts at a
// place the input chooses, as pipelined requests one after another. Checks
// that the incremental search finds what a search over the whole finds, and
// that every field is a view inside the request's head; each target is
// decoded as lws would (http1_target): a path no longer than twice the
// target, and every argument inside it; the shortcut for the usual target
// gives what the state machine gives.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "transport/http1_parser.hpp"
#include "transport/http1_target.hpp"

namespace {

using namespace daheim::transport::http1;

void check_inside(std::string_view head, std::string_view field) {
  if (field.empty()) return;
  if (field.data() < head.data() || field.data() + field.size() > head.data() + head.size())
    std::abort();
}

// decode_target()'s shortcut for the usual target gives what the state
// machine gives: the same verdict and parts, the same path and arguments.
void check_shortcut(std::string_view target, std::size_t max_arg) {
  static std::string path, machine_path;
  static std::vector<daheim::engineio::Header> query, machine_query;
  TargetResult fast = decode_target(target, max_arg, path, query);
  TargetResult slow = decode_target_by_state_machine(target, max_arg, machine_path, machine_query);
  if (fast.verdict != slow.verdict) std::abort();
  if (fast.verdict != TargetVerdict::Ok) return;
  if (fast.fragments != slow.fragments || path != machine_path || query != machine_query)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::size_t cut = data[0] % (size);
  std::string all(reinterpret_cast<const char*>(data + 1), size - 1);
  check_shortcut(all, 1 + data[0]);
  std::size_t at = 0;
  while (at < all.size()) {
    std::string_view rest(all.data() + at, all.size() - at);
    // Two reads: the first `cut` bytes, then the rest.
    std::size_t from = 0;
    std::size_t first = std::min(cut, rest.size());
    std::size_t end = find_head_end(rest.substr(0, first), from);
    if (end == 0) end = find_head_end(rest, from);
    std::size_t again = 0;
    if (find_head_end(rest, again) != end) std::abort();
    if (end == 0) break;
    static Request r;
    if (parse_head(rest, end, r) != ParseError::None) break;
    std::string_view head = rest.substr(0, end);
    if (r.head_size != end) std::abort();
    check_inside(head, r.method_name);
    check_inside(head, r.target);
    check_inside(head, r.path);
    check_inside(head, r.query);
    for (std::size_t i = 0; i < r.header_count; ++i) {
      check_inside(head, r.headers[i].name);
      check_inside(head, r.headers[i].value);
    }
    check_shortcut(r.target, 1 + data[0]);
    static std::string path;
    static std::vector<daheim::engineio::Header> query;
    if (decode_target(r.target, 1 + data[0], path, query).verdict == TargetVerdict::Ok) {
      if (path.size() > 2 * r.target.size() + 1) std::abort();
      for (const auto& [name, value] : query)
        if (name.size() + value.size() > r.target.size() + 1) std::abort();
    }
    if (r.content_length > rest.size() - end) break;
    at += end + r.content_length;
  }
  return 0;
}
