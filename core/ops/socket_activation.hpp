// systemd socket activation: the sockets systemd passes (LISTEN_FDS) are the
// listeners, in order (fd 3 is listeners[0]).
#pragma once

#include <string>
#include <vector>

#include "transport/listener.hpp"

namespace daheim::ops {

// Sets each listener's inherited_fd when systemd passed sockets. false (and
// a config error naming `config_source` logged) when the counts differ.
bool take_inherited_listeners(std::vector<transport::ListenerOptions>& listeners,
                              const std::string& config_source);

}  // namespace daheim::ops
