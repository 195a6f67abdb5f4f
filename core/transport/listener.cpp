#include "transport/listener.hpp"

#include <array>
#include <utility>

namespace daheim::transport {
namespace {

constexpr std::array<std::pair<std::string_view, unsigned>, 5> kNames{{
    {"socketio", kServiceSocketIo},
    {"demo", kServiceDemo},
    {"metrics", kServiceMetrics},
    {"plugins", kServicePlugins},
    {"admin", kServiceAdmin},
}};

}  // namespace

unsigned service_named(std::string_view name) {
  for (const auto& [n, bit] : kNames)
    if (n == name) return bit;
  return 0;
}

std::string service_names(unsigned services) {
  std::string out;
  for (const auto& [n, bit] : kNames) {
    if (!(services & bit)) continue;
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out.empty() ? "nothing" : out;
}

}  // namespace daheim::transport
