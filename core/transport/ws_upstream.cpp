#include "transport/ws_upstream.hpp"

#include <openssl/rand.h>

#include "engineio/base64.hpp"

namespace daheim::transport {
namespace {

constexpr uint8_t kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10;
constexpr std::size_t kMaxHead = 16384;

}  // namespace

void encode_client_frame(std::string& out, uint8_t opcode, std::string_view payload,
                         const uint8_t mask[4]) {
  std::size_t n = payload.size();
  out += static_cast<char>(0x80 | opcode);
  if (n < 126) {
    out += static_cast<char>(0x80 | n);
  } else if (n <= 0xffff) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i)
      out += static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff);
  }
  out.append(reinterpret_cast<const char*>(mask), 4);
  std::size_t start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < n; ++i)
    out[start + i] = static_cast<char>(out[start + i] ^ mask[i & 3]);
}

bool WsFrameReader::feed(std::string_view bytes, std::vector<Message>& out) {
  in_.append(bytes);
  std::size_t pos = 0;
  for (;;) {
    std::size_t avail = in_.size() - pos;
    if (avail < 2) break;
    auto b0 = static_cast<uint8_t>(in_[pos]);
    auto b1 = static_cast<uint8_t>(in_[pos + 1]);
    if (b1 & 0x80) return false;  // a server never masks
    uint64_t len = b1 & 0x7f;
    std::size_t head = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (static_cast<uint64_t>(static_cast<uint8_t>(in_[pos + 2])) << 8) |
            static_cast<uint8_t>(in_[pos + 3]);
      head = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<uint8_t>(in_[pos + 2 + i]);
      head = 10;
    }
    if (len > max_message_ + 2) return false;
    if (avail < head + len) break;
    uint8_t opcode = b0 & 0x0f;
    bool fin = b0 & 0x80;
    std::string_view payload(in_.data() + pos + head, static_cast<std::size_t>(len));
    pos += head + static_cast<std::size_t>(len);
    if (opcode >= kClose) {
      out.push_back({opcode, std::string(payload)});
      continue;
    }
    if (opcode != 0) {
      partial_.clear();
      partial_opcode_ = opcode;
    } else if (partial_opcode_ == 0) {
      return false;  // a continuation of nothing
    }
    if (partial_.size() + payload.size() > max_message_) return false;
    partial_.append(payload);
    if (!fin) continue;
    out.push_back({partial_opcode_, std::move(partial_)});
    partial_.clear();
    partial_opcode_ = 0;
  }
  in_.erase(0, pos);
  return in_.size() <= max_message_ + 16;
}

WsUpstream::WsUpstream(loop::Reactor& reactor, loop::TimerQueue& timers, Limits limits,
                       Handlers handlers)
    : limits_(limits),
      handlers_(std::move(handlers)),
      reader_(limits.max_message),
      socket_(reactor, timers, this) {
  RAND_bytes(mask_, sizeof mask_);
}

bool WsUpstream::start(const std::string& address, const std::string& target,
                       const std::string& extra_headers) {
  unsigned char nonce[16];
  RAND_bytes(nonce, sizeof nonce);
  std::string key = engineio::base64_encode(std::string_view(reinterpret_cast<char*>(nonce), 16));
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + address +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                    "\r\nSec-WebSocket-Version: 13\r\n" + extra_headers + "\r\n";
  if (!socket_.connect(address, limits_.connect_timeout)) return false;
  socket_.write(req, req.size());
  return true;
}

bool WsUpstream::send(std::string_view data, bool binary) {
  if (!open_) {
    if (early_bytes_ + data.size() > limits_.max_buffered) return false;
    early_bytes_ += data.size();
    early_.emplace_back(std::string(data), binary);
    return true;
  }
  std::string frame;
  frame.reserve(data.size() + 14);
  encode_client_frame(frame, binary ? kBinary : kText, data, mask_);
  return socket_.write(frame, limits_.max_buffered);
}

void WsUpstream::on_data(std::string_view data) {
  if (failed_) return;
  if (!open_) {
    head_.append(data);
    auto end = head_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (head_.size() > kMaxHead) fail("upgrade reply too long");
      return;
    }
    std::string rest = head_.substr(end + 4);
    head_.resize(end);
    on_handshake_reply();
    if (failed_ || rest.empty()) return;
    return on_data(rest);
  }
  std::vector<WsFrameReader::Message> messages;
  bool ok = reader_.feed(data, messages);
  for (auto& m : messages) {
    if (m.opcode == kText || m.opcode == kBinary) {
      handlers_.message(m.payload, m.opcode == kBinary);
    } else if (m.opcode == kPing) {
      std::string pong;
      encode_client_frame(pong, kPong, m.payload, mask_);
      socket_.write(pong, limits_.max_buffered + pong.size());
    } else if (m.opcode == kClose) {
      return fail("closed by the owner");
    }
    if (failed_) return;
  }
  if (!ok) fail("bad frame from the owner");
}

void WsUpstream::on_handshake_reply() {
  if (head_.compare(0, 13, "HTTP/1.1 101 ") != 0 && head_ != "HTTP/1.1 101")
    return fail("upgrade refused by the owner");
  open_ = true;
  head_.clear();
  auto early = std::move(early_);
  early_.clear();
  early_bytes_ = 0;
  for (auto& [data, binary] : early)
    if (!send(data, binary)) return fail("buffer full");
  if (handlers_.open) handlers_.open();
}

// `closed` may destroy this object: nothing is touched after it.
void WsUpstream::fail(const char* why) {
  if (failed_) return;
  failed_ = true;
  socket_.close();
  handlers_.closed(why);
}

}  // namespace daheim::transport
