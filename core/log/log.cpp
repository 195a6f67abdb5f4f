#include "log/log.hpp"

#include <unistd.h>

#include <atomic>
#include <string>

namespace daheim::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
}

void set_level(Level l) {
  g_level.store(static_cast<int>(l), std::memory_order_relaxed);
}
Level level() {
  return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}
bool enabled(Level l) {
  return static_cast<int>(l) <= g_level.load(std::memory_order_relaxed);
}

void write(Level l, std::string_view message) {
  std::string line = "<" + std::to_string(static_cast<int>(l)) + ">";
  for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
  line += '\n';
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

bool parse_level(std::string_view name, Level& out) {
  if (name == "error")
    out = Level::Error;
  else if (name == "warning")
    out = Level::Warning;
  else if (name == "notice")
    out = Level::Notice;
  else if (name == "info")
    out = Level::Info;
  else if (name == "debug")
    out = Level::Debug;
  else
    return false;
  return true;
}

}  // namespace daheim::log
