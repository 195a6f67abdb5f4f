#include "cluster/stream_window.hpp"

#include <algorithm>

#include "cluster/stream_broadcast.hpp"
#include "socketio/session_store.hpp"

namespace daheim::cluster {
namespace {

// What a room's deque costs beyond its entries: the map node and the key.
std::size_t room_key_bytes(const std::string& room) {
  return room.size() + 96;
}

std::size_t packet_bytes(const socketio::EncodedPacket& p) {
  std::size_t n = p.text ? p.text->bytes.capacity() + sizeof(engineio::Frame) : 0;
  for (const auto& a : p.attachments) n += a->bytes.capacity() + sizeof(engineio::Frame);
  return n;
}

}  // namespace

void StreamWindow::reset(bool whole) {
  records_.clear();
  index_.clear();
  first_seq_ = 1;
  bytes_ = 0;
  whole_ = whole;
}

void StreamWindow::add(const StreamEntry& entry) {
  if (options_.max_entries == 0) return;
  std::optional<StreamId> id = parse_stream_id(entry.id);
  if (!id || (!records_.empty() && *id <= records_.back().id)) return;
  Record r;
  r.id = *id;
  r.bytes = sizeof(Record);
  StreamBroadcast b;
  if (!entry.nsp.empty() && decode_stream_broadcast(entry, b) && !b.has_request &&
      takes_offset(b)) {
    r.nsp = entry.nsp;
    r.packet = stream_packet(entry.nsp, b, entry.id);
    r.opts.except = std::move(b.opts.except);
    for (std::string& room : b.opts.rooms)
      if (std::find(r.opts.rooms.begin(), r.opts.rooms.end(), room) == r.opts.rooms.end())
        r.opts.rooms.push_back(std::move(room));
    r.bytes += r.nsp.capacity() + packet_bytes(r.packet);
    for (const auto& v : {std::cref(r.opts.rooms), std::cref(r.opts.except)})
      for (const std::string& s : v.get()) r.bytes += sizeof(std::string) + s.capacity();
    r.bytes += sizeof(uint64_t) * std::max<std::size_t>(1, r.opts.rooms.size());
  }
  uint64_t seq = first_seq_ + records_.size();
  bytes_ += r.bytes;
  records_.push_back(std::move(r));
  if (!records_.back().nsp.empty()) index(records_.back(), seq);
  while (!records_.empty() &&
         (records_.size() > options_.max_entries || bytes_ > options_.max_bytes))
    evict_oldest();
}

void StreamWindow::index(const Record& r, uint64_t seq) {
  NspIndex& ix = index_[r.nsp];
  if (r.opts.rooms.empty()) {
    ix.all.push_back(seq);
    return;
  }
  for (const std::string& room : r.opts.rooms) {
    auto [it, fresh] = ix.rooms.try_emplace(room);
    if (fresh) bytes_ += room_key_bytes(room);
    it->second.push_back(seq);
  }
}

void StreamWindow::evict_oldest() {
  const Record& r = records_.front();
  if (!r.nsp.empty()) {
    auto nsp = index_.find(r.nsp);
    NspIndex& ix = nsp->second;
    if (r.opts.rooms.empty() && !ix.all.empty() && ix.all.front() == first_seq_) ix.all.pop_front();
    for (const std::string& room : r.opts.rooms) {
      auto it = ix.rooms.find(room);
      if (it == ix.rooms.end() || it->second.front() != first_seq_) continue;
      it->second.pop_front();
      if (!it->second.empty()) continue;
      bytes_ -= room_key_bytes(room);
      ix.rooms.erase(it);
    }
    if (ix.all.empty() && ix.rooms.empty()) index_.erase(nsp);
  }
  bytes_ -= r.bytes;
  records_.pop_front();
  ++first_seq_;
  ++evicted_;
  whole_ = false;
}

std::optional<uint64_t> StreamWindow::seq_of(StreamId from) const {
  if (whole_ && from == StreamId{}) return first_seq_ - 1;
  auto it = std::lower_bound(records_.begin(), records_.end(), from,
                             [](const Record& r, StreamId id) { return r.id < id; });
  if (it == records_.end() || it->id != from) return std::nullopt;
  return first_seq_ + static_cast<uint64_t>(it - records_.begin());
}

std::optional<std::vector<socketio::EncodedPacket>> StreamWindow::missed(
    std::string_view nsp, StreamId from, const std::vector<std::string>& rooms) const {
  std::optional<uint64_t> after = seq_of(from);
  if (!after) return std::nullopt;
  std::vector<socketio::EncodedPacket> out;
  auto ix = index_.find(std::string(nsp));
  if (ix == index_.end()) return out;
  std::vector<uint64_t> seqs;
  auto take = [&](const std::deque<uint64_t>& d) {
    seqs.insert(seqs.end(), std::upper_bound(d.begin(), d.end(), *after), d.end());
  };
  take(ix->second.all);
  for (const std::string& room : rooms)
    if (auto it = ix->second.rooms.find(room); it != ix->second.rooms.end()) take(it->second);
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  for (uint64_t seq : seqs) {
    const Record& r = records_[seq - first_seq_];
    if (socketio::session_selects(r.opts, rooms)) out.push_back(r.packet);
  }
  return out;
}

}  // namespace daheim::cluster
