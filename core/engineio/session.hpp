// The Engine.IO v4 session state machine (pure): handshake, heartbeat,
// polling, upgrade to WebSocket and close. The transport feeds it requests
// and frames and asks it what to write; it never does I/O itself.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engineio/frame_queue.hpp"
#include "engineio/handler.hpp"
#include "engineio/outbox_budget.hpp"
#include "engineio/sid.hpp"
#include "loop/on_demand_timer.hpp"
#include "loop/timer.hpp"

namespace daheim::engineio {

struct Options {
  loop::Millis ping_interval{25000};
  loop::Millis ping_timeout{20000};
  loop::Millis upgrade_timeout{10000};
  std::size_t max_payload = 1000000;
  // Bytes queued for one client before it counts as a slow consumer. At
  // most kMaxBufferedBytes (config refuses more): the session counts them in
  // 32 bits.
  std::size_t max_buffered_bytes = 16u << 20;
  bool allow_polling = true;
  bool allow_websocket = true;
  // Engine.IO 3 handshakes (EIO=3, socket.io-client 1.x/2.x) are accepted.
  bool allow_eio3 = false;
};

class Session;

// The most bytes a session can hold queued: more closes it as a slow
// consumer whatever max_buffered_bytes says (only frames it queues on its
// own, e.g. answers to a v3 client's pings, are not bounded by that).
inline constexpr std::size_t kMaxBufferedBytes = UINT32_MAX;

// The transport side, told when the session needs service.
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  // Frames are queued, a held poll should be answered, a probe reply is
  // pending, or the session closed: look at the session and act.
  virtual void on_session_activity(Session& session) = 0;
};

class Session final : public Connection {
 public:
  // `sid`: at most kIdLength characters (generate_id()'s, perhaps with a
  // node's tag in front); it is kept inline, not on the heap.
  Session(std::string_view sid, TransportKind kind, Handshake handshake, const Options& options,
          loop::TimerQueue& timers, SessionObserver& observer);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Queues the open packet and starts the heartbeat. Call once, after
  // attaching the handler.
  void start(std::unique_ptr<Handler> handler);

  // Connection
  std::string_view id() const override { return {sid_.data(), sid_size_}; }
  const Handshake& handshake() const override { return handshake_; }
  TransportKind transport() const override { return kind_; }
  bool send(FramePtr frame) override;
  bool can_send_now() const override;
  void close(CloseReason reason) override;
  // Just after a graceful close(): the client has at most `within` (not
  // pingInterval + pingTimeout) to fetch what is queued; then it is closed.
  void close_within(loop::Millis within);
  loop::TimerQueue& timers() override { return heartbeat_timer_.queue(); }

  bool open() const { return state_ == State::Open; }
  bool closed() const { return state_ == State::Closed; }
  // A probe WebSocket is attached and the upgrade has not completed yet.
  bool probe_active() const {
    return upgrade_ == Upgrade::Attached || upgrade_ == Upgrade::Probing;
  }
  // Closed and nothing left to deliver: the transport may drop the session.
  bool finished() const { return state_ == State::Closed && !poll_held_; }
  std::size_t buffered_bytes() const { return buffered_bytes_; }
  // Closed because it queued more than max_buffered_bytes (or was dropped
  // by drop_slow_consumer).
  bool slow_consumer() const { return slow_consumer_; }
  // Counts what this session queues into `budget` (null: none). Set once,
  // before start(); the budget must outlive the session.
  void set_budget(OutboxBudget* budget) { budget_ = budget; }
  // Closes the session at once as too slow (the server-wide budget is
  // spent): its queue is dropped, the handler sees a transport error.
  void drop_slow_consumer();
  const Options& options() const { return options_; }
  // The upgrade's or the drain's timer is allocated (only while one runs).
  bool phase_timer_allocated() const { return phase_timer_.allocated(); }

  // A request for this session arrived (a poll, a POST, an upgrade): a
  // heartbeat the loop has not got to yet although it is due runs first, so
  // that the request meets the session as an on-time timer had left it (a
  // ping queued, or closed with "ping timeout").
  void catch_up_heartbeat();

  // WebSocket (primary transport).
  void on_ws_text(std::string_view text);
  void on_ws_binary(std::string_view data);
  // Next frame for the primary WebSocket, or null when none is queued.
  FramePtr pop_frame();
  bool has_frames() const { return !outbox_.empty(); }
  std::size_t frame_count() const { return outbox_.size(); }
  const Frame& front_frame() const { return *outbox_.front(); }
  // The primary transport's connection went away (WebSocket closed).
  void on_transport_lost(bool error);

  // Long-polling.
  enum class PollStart { Hold, Answer, Overlap };
  // A GET arrived. Overlap: answer 400; the session is closed.
  PollStart begin_poll();
  // A held GET should be answered now (data queued, upgrade or close).
  bool poll_ready() const;
  // The body for the GET; ends the poll.
  std::string end_poll();
  // The same into `out` (cleared first), whose capacity the caller keeps.
  void end_poll(std::string& out);
  // The held GET's connection died before it was answered.
  void poll_aborted();
  // A POST arrived. false: overlap (answer 400; the session is closed).
  bool begin_post();
  // The POST body, complete (`binary`: sent as application/octet-stream,
  // Engine.IO 3 only). false: undecodable (answer 400; closed).
  bool on_post_body(std::string_view body, bool binary = false);
  // Engine.IO 3: the last end_poll() body is a binary payload
  // (application/octet-stream), not text.
  bool poll_body_binary() const { return poll_body_binary_; }
  // The session speaks Engine.IO 3 (its handshake said EIO=3).
  bool v3() const { return v3_; }
  void end_post() { post_active_ = false; }

  // Upgrade: a WebSocket with this sid while the session polls.
  bool begin_upgrade();
  enum class ProbeResult { Continue, Upgraded, Refused };
  ProbeResult on_probe_text(std::string_view text);
  // The reply for the probe WebSocket ("3probe"), or null.
  FramePtr take_probe_frame();
  // The probe WebSocket closed (or was refused) before the upgrade.
  void on_probe_lost();

 private:
  enum class State : uint8_t { Open, Closing, Closed };
  enum class Upgrade : uint8_t { None, Attached, Probing, Done };

  void queue(FramePtr frame);
  void on_packet(PacketType type, bool binary, std::string_view data);
  void schedule_ping();
  void on_heartbeat_timer(loop::Micros late);
  void on_client_ping(std::string_view data);
  void poll_answer(PacketType type, std::string& out) const;
  void poll_payload(std::string& body);
  void close_now(CloseReason reason, PacketType poll_answer);
  void clear_outbox();
  void notify_handler_closed(CloseReason reason);
  void notify() { observer_.on_session_activity(*this); }
  void on_phase_timer();
  void arm_phase(loop::Millis delay) { phase_timer_.arm(*this, timers(), delay); }

  // 184 bytes: with the SessionEntry around it, one malloc chunk per
  // session. The one-byte members beside the sid, the flags in bits.
  std::array<char, kIdLength> sid_;
  uint8_t sid_size_;
  TransportKind kind_;
  State state_ = State::Open;
  Upgrade upgrade_ = Upgrade::None;
  Handshake handshake_;
  const Options& options_;
  SessionObserver& observer_;
  std::unique_ptr<Handler> handler_;

  FrameQueue outbox_;
  OutboxBudget* budget_ = nullptr;
  uint32_t buffered_bytes_ = 0;  // at most kMaxBufferedBytes
  bool awaiting_pong_ : 1 = false;
  bool poll_held_ : 1 = false;
  bool post_active_ : 1 = false;
  bool slow_consumer_ : 1 = false;
  bool v3_ : 1 = false;
  bool v3_binary_ok_ : 1 = false;  // v3 polling: binary payloads (no b64=1)
  bool poll_body_binary_ : 1 = false;
  bool probe_reply_due_ : 1 = false;  // "3probe" is to be sent on the probe WebSocket
  // What a held GET gets when the session closes with nothing else queued.
  PacketType poll_close_answer_ = PacketType::Close;
  loop::Timer heartbeat_timer_;
  // upgrade_timeout, or the drain of a graceful close: allocated when one
  // begins and freed when it ends (an idle WebSocket session has none).
  loop::OnDemandTimer<Session, &Session::on_phase_timer> phase_timer_;
};

}  // namespace daheim::engineio
