#include "transport/ws_close.hpp"

#include <algorithm>
#include <cstring>

namespace daheim::transport {

// RFC 6455 §5.5.1: FIN + opcode 8, the length, the code, the reason;
// unmasked from a server, written raw. lws_close_reason() and returning -1
// does not send it on libuv: lws 4.1 as Debian builds it (_DEBUG) closes the
// wsi a second time after a callback asked for the close ("close_and_handled
// uv repeat test" in lws_service_fd_tsi), and that second close kills the
// connection that the first had scheduled the close frame for (the client
// saw 1006). lws has no public LWS_WRITE_CLOSE. Written from RECEIVE or
// ESTABLISHED too: what the kernel does not take at once lws keeps and
// flushes before it closes.
int close_with_frame(lws* wsi, uint16_t code, std::string_view reason) {
  unsigned char buf[LWS_PRE + 4 + 123];
  std::size_t n = std::min<std::size_t>(reason.size(), 123);
  unsigned char* frame = buf + LWS_PRE;
  frame[0] = 0x88;
  frame[1] = static_cast<unsigned char>(2 + n);
  frame[2] = static_cast<unsigned char>(code >> 8);
  frame[3] = static_cast<unsigned char>(code & 0xff);
  if (n != 0) std::memcpy(frame + 4, reason.data(), n);  // an empty reason's data() may be null
  lws_write(wsi, frame, 4 + n, LWS_WRITE_RAW);
  return -1;
}

}  // namespace daheim::transport
