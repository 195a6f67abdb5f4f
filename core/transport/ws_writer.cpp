#include "transport/ws_writer.hpp"

#include <libwebsockets.h>

#include <algorithm>

#include "transport/engineio_endpoint.hpp"

namespace daheim::transport {
namespace {

// A batch stops growing past this many bytes; bigger frames go alone.
constexpr std::size_t kBatchBytes = 64 * 1024;

}  // namespace

std::size_t ws_frame_header(bool binary, std::size_t size, unsigned char out[10]) {
  out[0] = static_cast<unsigned char>(0x80 | (binary ? 0x2 : 0x1));
  if (size < 126) {
    out[1] = static_cast<unsigned char>(size);
    return 2;
  }
  if (size <= 0xffff) {
    out[1] = 126;
    out[2] = static_cast<unsigned char>(size >> 8);
    out[3] = static_cast<unsigned char>(size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<unsigned char>(size >> (56 - 8 * i));
  return 10;
}

void WsWriter::defer(SessionEntry& entry) {
  if (entry.write_deferred) return;
  entry.write_deferred = true;
  deferred_.push_back(&entry);
}

void WsWriter::forget(SessionEntry& entry) {
  if (!entry.write_deferred) return;
  entry.write_deferred = false;
  std::replace(deferred_.begin(), deferred_.end(), &entry, static_cast<SessionEntry*>(nullptr));
}

void WsWriter::flush() {
  // By index: should lws call back into us while a held GET is answered, an
  // entry deferred meanwhile is written in this flush too, and one forgotten
  // is skipped.
  for (std::size_t i = 0; i < deferred_.size(); ++i) {
    SessionEntry* entry = deferred_[i];
    if (!entry) continue;
    entry->write_deferred = false;
    deferred_[i] = nullptr;
    entry->write_now();
  }
  deferred_.clear();
}

bool WsWriter::write_queued(lws* wsi, engineio::Session& s) {
  while (s.has_frames() && !lws_partial_buffered(wsi)) {
    if (s.frame_count() == 1 || s.front_frame().size() >= kBatchBytes / 4) {
      engineio::FramePtr frame = s.pop_frame();
      if (!write_frame(wsi, *frame)) return false;
    } else if (!write_batch(wsi, s)) {
      return false;
    }
  }
  return true;
}

void WsWriter::count_write(lws* wsi) {
  ++stats_.ws_writes;
  if (lws_partial_buffered(wsi)) ++stats_.ws_partial_writes;
}

bool WsWriter::write_frame(lws* wsi, const engineio::Frame& frame) {
  auto* body = reinterpret_cast<unsigned char*>(const_cast<char*>(frame.bytes.data())) +
               engineio::kFrameHeadroom;
  auto type = frame.binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
  if (lws_write(wsi, body, frame.size(), type) < static_cast<int>(frame.size())) return false;
  count_write(wsi);
  ++stats_.messages_out;
  stats_.bytes_out += frame.size();
  return true;
}

// Several queued frames, framed here, in one raw write (lws sends
// LWS_WRITE_HTTP bytes on a WebSocket as they are, through TLS if any).
bool WsWriter::write_batch(lws* wsi, engineio::Session& s) {
  batch_.assign(LWS_PRE, '\0');
  std::size_t frames = 0;
  while (s.has_frames() &&
         (frames == 0 || batch_.size() - LWS_PRE + s.front_frame().size() + 10 <= kBatchBytes)) {
    engineio::FramePtr frame = s.pop_frame();
    unsigned char header[10];
    std::size_t n = ws_frame_header(frame->binary, frame->size(), header);
    batch_.append(reinterpret_cast<const char*>(header), n);
    batch_.append(frame->bytes, engineio::kFrameHeadroom, frame->size());
    stats_.bytes_out += frame->size();
    ++frames;
  }
  stats_.messages_out += frames;
  auto* body = reinterpret_cast<unsigned char*>(batch_.data()) + LWS_PRE;
  std::size_t size = batch_.size() - LWS_PRE;
  bool ok = lws_write(wsi, body, size, LWS_WRITE_HTTP) >= static_cast<int>(size);
  if (ok) count_write(wsi);
  if (batch_.capacity() > 4 * kBatchBytes) std::string().swap(batch_);
  return ok;
}

}  // namespace daheim::transport
