// libFuzzer target for the config reader (core/app/config: load_config over the defaults, as
// `--config FILE` and `--check-config FILE` use it).
//
// The input is the file's text, written to a memfd and read through /proc/self/fd/N. A file is
// either accepted or refused with a message naming the file; nothing else may escape (no
// exception other than the reader's own, no crash, no sanitizer report).
//
// Run: ./scripts/fuzz.sh SECONDS, or see meson.build.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "app/config.hpp"

namespace {

int memfd() {
  static const int fd = [] {
    int f = memfd_create("config_fuzz", 0);
    if (f < 0) std::abort();
    return f;
  }();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd();
  if (ftruncate(fd, 0) != 0) std::abort();
  if (size > 0 && pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  std::string path = "/proc/self/fd/" + std::to_string(fd);

  daheim::app::Config config = daheim::app::default_config();
  daheim::app::ConfigError error;
  if (daheim::app::load_config(path, config, error)) {
    if (config.source != path) std::abort();
  } else {
    if (error.message.empty() || error.file != path) std::abort();
    if (error.to_string().find(path) == std::string::npos) std::abort();
  }
  return 0;
}
