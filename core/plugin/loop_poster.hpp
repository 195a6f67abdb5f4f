// The loop's cross-thread inbox as the plugin host sees it (defined with the
// other loop facilities in engineio, so the transport needs no plugin header).
#pragma once

#include "engineio/loop_poster.hpp"

namespace daheim::plugin {

using LoopPoster = engineio::LoopPoster;

}  // namespace daheim::plugin
