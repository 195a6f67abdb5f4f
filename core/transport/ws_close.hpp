// Closing a WebSocket with a status code the client really receives.
#pragma once

#include <libwebsockets.h>

#include <cstdint>
#include <string_view>

namespace daheim::transport {

// Writes the close frame itself and returns -1, for the lws callback to
// return (lws then closes the connection without a close frame of its own).
// `reason`: at most 123 bytes are sent. See ws_close.cpp for why.
int close_with_frame(lws* wsi, uint16_t code, std::string_view reason = {});

}  // namespace daheim::transport
