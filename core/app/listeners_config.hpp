// The "listeners" key: several listening addresses, each plain or TLS and
// each answering some of the server's services.
#pragma once

#include <string>
#include <vector>

#include "app/config_reader.hpp"
#include "transport/listener.hpp"

namespace daheim::app {

// Reads "listeners" from the root object into `out` (left as it is when the
// key is absent). Relative certificate paths are taken relative to the
// directory of `config_path`; the files must be readable.
void read_listeners(ObjectReader& root, const std::string& config_path,
                    std::vector<transport::ListenerOptions>& out);

}  // namespace daheim::app
