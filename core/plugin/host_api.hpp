// The host API table handed to every plugin's init (one static table; the
// dhl_ctx argument of each function says which plugin calls).
#pragma once

#include "daheim/plugin.h"

namespace daheim::plugin {

const dhl_host& host_api();

}  // namespace daheim::plugin
