#include "transport/http1_connection.hpp"

#include <libwebsockets.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "log/log.hpp"
#include "transport/engineio_endpoint.hpp"
#include "transport/http1_response.hpp"
#include "transport/http1_target.hpp"
#include "transport/refused_connections.hpp"

namespace daheim::transport {
namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr loop::Millis kSweepInterval{1000};
constexpr std::string_view kBinaryType = "application/octet-stream";

// lws keeps fewer parts of a head (the target's and one per header it knows)
// than this: its fragment table has WSI_TOKEN_COUNT slots and never uses slot
// 0. A request with as many is left to lws, which serves or fails it.
constexpr std::size_t kLwsParts = WSI_TOKEN_COUNT - 1;

}  // namespace

// ---------------------------------------------------------------- connection

Http1Connection::Http1Connection(Http1Connections& owner, int fd, lws_vhost* vhost)
    : owner_(owner), fd_(fd), vhost_(vhost) {}

Http1Connection::~Http1Connection() {
  watch_.reset();
  if (fd_ >= 0) close(fd_);
}

bool Http1Connection::start(loop::Reactor& reactor) {
  watch_ = reactor.watch(fd_, *this);
  deadline = owner_.now() + owner_.options().request_timeout;
  return watch_ != nullptr;
}

// A connection with nothing buffered reads into one buffer per thread and
// keeps only what is left over (a request not complete yet, pipelined
// requests behind a held GET): an idle keep-alive connection holds no
// buffer, and a steady stream of whole requests allocates nothing.
void Http1Connection::on_readable() {
  if (closing_) return;
  thread_local Http1Buffer scratch;
  bool borrowed = in_.empty();
  if (borrowed) in_.swap(scratch);
  read_and_serve();
  if (!borrowed) return;
  // The object lives on until the end of the turn even when it was retired.
  if (in_.empty()) {
    in_.swap(scratch);
    in_.release();
    return;
  }
  Http1Buffer rest;
  rest.assign(in_);
  in_.clear();
  in_.swap(scratch);
  in_.swap(rest);
}

void Http1Connection::read_and_serve() {
  owner_.run_before_read();
  if (closing_) return;
  // A call after end-of-file, with reading paused: lws gave up the socket
  // (the client reset it) or the answer may go on.
  bool was_eof = eof_;
  if (!was_eof) read_available();
  if (closing_) return;
  if (eof_ && !held_ && !out_.empty() && !(was_eof && flush_out())) {
    // The client shut its side with an answer pending: the socket stays
    // readable at end-of-file, so reading stops (each turn would read 0
    // bytes again); the answer goes out when the client reads.
    if (!closing_ && watch_) watch_->pause_read();
    return;
  }
  process();
}

// How far the buffer may fill: one head's worth (and a byte to see it is too
// long) beyond the front request's body (none until its head is in). Held
// GET: the next requests wait in the buffer; past one head's worth, reading
// stops until the GET is answered (release_held), as lws stops.
std::size_t Http1Connection::read_limit() const {
  const Http1Options& o = owner_.options();
  if (held_) return o.max_header;
  return front_end_ + o.max_header + 1;
}

void Http1Connection::read_available() {
  const Http1Options& o = owner_.options();
  std::size_t limit = read_limit();
  for (;;) {
    if (in_.size() >= limit) {
      // Full, and the front request waits: behind a held GET (resumed by
      // release_held) or behind an answer the client has not read yet
      // (resumed by on_writable). The socket stays readable: reading
      // stops, or each turn would come back here for nothing.
      if ((held_ || !out_.empty()) && watch_) {
        watch_->pause_read();
        read_paused_ = true;
      }
      return;
    }
    std::size_t old = in_.size();
    std::size_t room = std::max(kReadChunk, in_.capacity() - old);
    room = std::min(room, limit - old);
    ssize_t n = recv(fd_, in_.room(room), room, MSG_DONTWAIT);
    if (n > 0) in_.commit(static_cast<std::size_t>(n));
    if (n > 0) {
      if (old == 0 && !held_) deadline = owner_.now() + o.request_timeout;
      if (static_cast<std::size_t>(n) < room) return;
      continue;
    }
    if (n == 0) {
      eof_ = true;
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EINTR) continue;
    return client_gone();
  }
}

void Http1Connection::process() {
  while (!closing_ && !held_ && out_.empty() && serve_next()) {
  }
  if (closing_) return;
  if (eof_ && held_) {
    // The client went away while its GET was held.
    return client_gone();
  }
  // At end-of-file the connection ends once its answers are out.
  if (eof_ && out_.empty()) {
    owner_.retire(*this, true);
    return;
  }
  const Http1Options& o = owner_.options();
  if (held_)
    deadline = loop::TimePoint::max();
  else if (in_.empty() && out_.empty())
    deadline = owner_.now() + o.idle_timeout;
  else if (deadline == loop::TimePoint::max())
    // A GET was held with a request begun behind it, or its answer is not
    // all out: the connection is timed again from here.
    deadline = owner_.now() + (out_.empty() ? o.request_timeout : o.idle_timeout);
}

// Serves the request at the front of the buffer; false when there is none
// complete (or the connection was handed over or ended).
bool Http1Connection::serve_next() {
  const Http1Options& o = owner_.options();
  if (in_.empty()) return false;
  if (head_end_ == 0) {
    head_end_ = http1::find_head_end(in_, scan_);
    if (head_end_ == 0) {
      if (in_.size() > o.max_header) hand_over();  // lws closes it, as it does today
      return false;
    }
  }
  thread_local http1::Request req;
  if (head_end_ > o.max_header || http1::parse_head(in_, head_end_, req) != http1::ParseError::None)
    return hand_over(), false;
  bool ours = !owner_.handing_over_all() && !req.upgrade && !req.transfer_encoding &&
              (req.method == engineio::Method::Get || req.method == engineio::Method::Post) &&
              req.content_length <= o.max_body &&
              (req.method == engineio::Method::Post || req.content_length == 0);
  if (!ours) return hand_over(), false;
  std::size_t total = head_end_ + req.content_length;
  thread_local HttpRequest hreq;
  // The path and arguments lws would give (decoded, folded); what lws
  // refuses is left to it.
  http1::TargetResult target =
      http1::decode_target(req.target, o.max_header, hreq.path, hreq.query);
  if (target.verdict != http1::TargetVerdict::Ok ||
      target.fragments + req.header_count >= kLwsParts || !owner_.endpoint().matches(hreq.path) ||
      owner_.is_route(hreq.path))
    return hand_over(), false;
  hreq.method = req.method;
  const std::string_view* origin = req.header("origin");
  if (origin) {
    if (!hreq.origin) hreq.origin.emplace();
    hreq.origin->assign(*origin);
    origin_.assign(*origin);
  } else {
    hreq.origin.reset();
  }
  has_origin_ = origin != nullptr;
  close_after_ = req.close;
  close_asked_ = req.close_asked;
  minor_ = req.minor;
  if (in_.size() < total) {
    // The body is still coming: the POST begins now, as on the lws path (a
    // second POST meanwhile is an overlap).
    if (!post_begun_) {
      switch (owner_.endpoint().begin_own_post(*this, hreq)) {
        case EngineIoEndpoint::OwnPost::NotOurs:
          return hand_over(), false;
        case EngineIoEndpoint::OwnPost::Answered:
          return false;
        case EngineIoEndpoint::OwnPost::Begun:
          post_begun_ = true;
          if (const std::string* sid = hreq.query_param("sid")) post_sid_.assign(*sid);
          break;
      }
    }
    front_end_ = total;  // its body is read next
    return false;
  }
  const std::string_view* type = req.header("content-type");
  bool binary = type && *type == kBinaryType;
  std::string_view body(in_.data() + head_end_, req.content_length);
  bool begun = std::exchange(post_begun_, false);
  if (!owner_.endpoint().serve_own(*this, hreq, req, body, binary, begun))
    return hand_over(), false;
  owner_.count_served();
  if (!closing_) consume(total);
  return !closing_;
}

void Http1Connection::consume(std::size_t n) {
  in_.consume(n);
  scan_ = 0;
  head_end_ = 0;
  front_end_ = 0;
}

// lws takes the connection with every byte read and not served: from here
// on it is an lws connection like any other.
void Http1Connection::hand_over() {
  watch_.reset();
  int fd = fd_;
  fd_ = -1;
  owner_.count_handed_over();
  owner_.retire(*this, false);
  // Closes the descriptor itself when it fails.
  if (!lws_adopt_socket_vhost_readbuf(vhost_, fd, in_.data(), in_.size()))
    log::debug("http/1.1: lws refused a connection handed over (fd {})", fd);
}

void Http1Connection::respond(unsigned status, std::string_view content_type, std::string_view body,
                              const std::vector<engineio::Header>& headers, bool close) {
  thread_local std::string buf;
  bool say_close = close || close_asked_;
  refused_ = close;
  close = close || close_after_;
  http1::format_response(buf, minor_, status, content_type, body, headers, say_close);
  close_after_ = close;
  if (buf.capacity() > 64 * 1024 && buf.size() <= 64 * 1024) buf.shrink_to_fit();
  ssize_t n = send(fd_, buf.data(), buf.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    owner_.retire(*this, true);
    return;
  }
  std::size_t sent = n < 0 ? 0 : static_cast<std::size_t>(n);
  if (sent == buf.size()) {
    if (close) close_after_answer();
    return;
  }
  out_.assign(buf, sent);
  if (sent > 0 || deadline == loop::TimePoint::max())
    deadline = owner_.now() + owner_.options().idle_timeout;
  if (watch_) watch_->want_write();
}

// The deadline moves only when bytes do: a client that takes nothing of an
// answer is let go after the idle timeout.
bool Http1Connection::flush_out() {
  while (!out_.empty()) {
    ssize_t n = send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (watch_) watch_->want_write();
      return false;
    }
    if (n > 0) deadline = owner_.now() + owner_.options().idle_timeout;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      owner_.retire(*this, true);
      return false;
    }
    out_.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

void Http1Connection::on_writable() {
  if (closing_ || !flush_out()) return;
  if (close_after_) return close_after_answer();
  // The client read its answers: the requests behind them are read again.
  if (!held_ && std::exchange(read_paused_, false) && watch_) watch_->resume_read();
  process();
}

// The answer is out and the connection ends with a FIN. After a refusal the
// socket is kept a while to read and drop what the client still sends (the
// rest of a refused POST): closed with unread bytes, it would be reset, and a
// reset can destroy the answer before the client read it. A request served
// whole (HTTP/1.0, Connection: close) leaves nothing to drop.
void Http1Connection::close_after_answer() {
  RefusedConnections* refusals = refused_ ? owner_.refusals() : nullptr;
  const Http1Options& o = owner_.options();
  if (refusals && refusals->refuse(fd_, {}, o.max_header + o.max_body))
    lingering_ = true;
  else
    shutdown(fd_, SHUT_WR);
  owner_.retire(*this, true);
}

void Http1Connection::stop(bool close_fd) {
  closing_ = true;
  watch_.reset();
  if (close_fd && fd_ >= 0) {
    // The reactor's dup() of it lives a little longer: the FIN goes now
    // (a lingering socket's went already, and it goes on reading).
    if (!lingering_) shutdown(fd_, SHUT_RDWR);
    close(fd_);
    fd_ = -1;
  }
}

// Reading is paused, so the loop reports nothing more of the socket (on
// libuv not even a hang-up). The sweep looks: a client that reset the
// connection is gone, and one that shut its side while its GET is held is
// gone with the GET, as a read would find (process()); ended now, not when
// an answer would fail at the next ping. One that shut its side with answers
// pending may still read them.
void Http1Connection::check_hang_up() {
  pollfd p{fd_, POLLRDHUP, 0};  // POLLHUP and POLLERR come unasked
  if (poll(&p, 1, 0) != 1) return;
  bool gone = (p.revents & (POLLHUP | POLLERR)) || (held_ && (p.revents & POLLRDHUP));
  if (gone) client_gone();
}

// The client is gone: its held GET goes with it (the session learns it as
// the lws path's does), and the connection ends.
void Http1Connection::client_gone() {
  if (held_) owner_.endpoint().own_poll_lost(*held_);
  owner_.retire(*this, true);
}

void Http1Connection::end() {
  owner_.retire(*this, true);
}

void Http1Connection::hold(SessionEntry& entry) {
  held_ = &entry;
  deadline = loop::TimePoint::max();
}

void Http1Connection::release_held(bool resume) {
  held_ = nullptr;
  has_origin_ = false;
  if (!resume || closing_) return;
  // Reading stopped while the GET was held with a head's worth behind it.
  if (std::exchange(read_paused_, false) && watch_) watch_->resume_read();
  process();
}

// ---------------------------------------------------------------- the set

Http1Connections::Http1Connections(EngineIoEndpoint& endpoint, loop::Reactor& reactor,
                                   loop::TimerQueue& timers, Http1Options options)
    : endpoint_(endpoint),
      reactor_(reactor),
      timers_(timers),
      options_(options),
      sweep_timer_(timers, [this] { sweep(); }),
      bury_timer_(timers, [this] { bury(); }) {}

Http1Connections::~Http1Connections() {
  // Sessions that outlive us must not answer into our connections.
  for (auto& c : list_)
    if (SessionEntry* entry = c->held()) entry->drop_poll();
  sweep_timer_.disarm();
  bury_timer_.disarm();
  graveyard_.clear();
  list_.clear();
}

loop::TimePoint Http1Connections::now() const {
  return timers_.now();
}

bool Http1Connections::adopt(int fd, lws_vhost* vhost) {
  auto c = std::make_unique<Http1Connection>(*this, fd, vhost);
  if (!c->start(reactor_)) {
    if (on_closed_) on_closed_(fd);
    return false;  // its destructor closes fd
  }
  c->slot = list_.size();
  list_.push_back(std::move(c));
  if (!sweep_timer_.armed()) sweep_timer_.arm(kSweepInterval);
  return true;
}

void Http1Connections::retire(Http1Connection& c, bool closed_here) {
  if (c.closing()) return;
  std::size_t i = c.slot;
  if (i >= list_.size() || list_[i].get() != &c) return;
  if (closed_here && on_closed_ && c.fd() >= 0) on_closed_(c.fd());
  if (c.post_begun()) endpoint_.own_post_lost(c.post_sid());
  std::unique_ptr<Http1Connection> gone = std::move(list_[i]);
  if (i + 1 != list_.size()) {
    list_[i] = std::move(list_.back());
    list_[i]->slot = i;
  }
  list_.pop_back();
  gone->stop(closed_here);
  graveyard_.push_back(std::move(gone));
  if (!bury_timer_.armed()) bury_timer_.arm(loop::Millis(0));
}

void Http1Connections::bury() {
  graveyard_.clear();
}

// Idle keep-alive connections and slow requests end; a held GET has no
// deadline of its own (the session's heartbeat bounds it).
void Http1Connections::sweep() {
  loop::TimePoint now = timers_.now();
  for (std::size_t i = list_.size(); i-- > 0;) {
    if (i >= list_.size()) continue;
    Http1Connection& c = *list_[i];
    if (c.deadline <= now && !c.held())
      retire(c, true);
    else if (c.read_paused())
      c.check_hang_up();
  }
  if (!list_.empty()) sweep_timer_.arm(kSweepInterval);
}

}  // namespace daheim::transport
