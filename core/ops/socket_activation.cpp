#include "ops/socket_activation.hpp"

#include <systemd/sd-daemon.h>

#include "log/log.hpp"

namespace daheim::ops {

bool take_inherited_listeners(std::vector<transport::ListenerOptions>& listeners,
                              const std::string& config_source) {
  int n = sd_listen_fds(1);
  if (n <= 0) return true;
  if (static_cast<std::size_t>(n) != listeners.size()) {
    log::error("config error: {}: key listeners: systemd passed {} sockets for {} listeners",
               config_source, n, listeners.size());
    return false;
  }
  for (int i = 0; i < n; ++i)
    listeners[static_cast<std::size_t>(i)].inherited_fd = SD_LISTEN_FDS_START + i;
  log::info("socket activation: listening on the {} socket(s) passed by systemd", n);
  return true;
}

}  // namespace daheim::ops
