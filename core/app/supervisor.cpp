#include "app/supervisor.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "app/cli.hpp"
#include "app/daemon.hpp"
#include "log/log.hpp"
#include "ops/host_limits.hpp"
#include "ops/socket_activation.hpp"
#include "transport/listen_socket.hpp"
#include "transport/socket_address.hpp"

namespace daheim::app {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kFirstRestartDelay{100};
constexpr milliseconds kMaxRestartDelay{5000};
constexpr milliseconds kStableRun{10000};  // a worker that ran this long restarts at once

struct Worker {
  int index = 0;
  pid_t pid = -1;
  bool ready = false;
  Clock::time_point started{};
  Clock::time_point last_ping{};
  Clock::time_point restart_at{};
  milliseconds delay{kFirstRestartDelay};
};

// Port 0 in a listener: one free port for every worker, chosen here and kept
// reserved by a bound (not listening) SO_REUSEPORT socket.
int reserve_port(transport::ListenerOptions& l) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!transport::to_socket_address(l.host, 0, addr, len)) return -1;
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  l.port = ntohs(addr.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&addr)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return fd;
}

// The worker's own listening socket in the port's SO_REUSEPORT group, served
// as an inherited one (lws 4.1 cannot bind with SO_REUSEPORT itself).
int open_shared_listener(const transport::ListenerOptions& l) {
  return transport::open_listen_socket(l.host, l.port, {.reuse_port = true, .v6_only = true});
}

class Supervisor {
 public:
  Supervisor(Config config, const Fixtures* fixtures)
      : config_(std::move(config)), fixtures_(fixtures) {}
  int run();

 private:
  bool set_up();
  void spawn(Worker& w);
  [[noreturn]] void run_worker(const Worker& w);
  void on_signal();
  void on_notify();
  void reap();
  void tick();
  int next_timeout() const;
  void signal_all(int sig);
  Worker* by_pid(pid_t pid);

  Config config_;
  const Fixtures* fixtures_;
  std::vector<Worker> workers_;
  std::vector<int> reserved_;
  std::string notify_path_;  // abstract: starts with '@'
  int notify_fd_ = -1;
  int signal_fd_ = -1;
  bool all_ready_ = false;
  bool stopping_ = false;
  int exit_status_ = 0;
  Clock::time_point stop_deadline_{};
  uint64_t watchdog_usec_ = 0;
  Clock::time_point next_watchdog_{};
};

bool Supervisor::set_up() {
  if (!ops::take_inherited_listeners(config_.server.listeners, config_.source)) return false;
  for (auto& l : config_.server.listeners) {
    if (l.inherited_fd >= 0 || l.port != 0) continue;
    int fd = reserve_port(l);
    if (fd < 0) {
      log::error("cannot reserve a port on {} for the workers", l.host);
      return false;
    }
    reserved_.push_back(fd);
  }
  notify_fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(notify_fd_, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
  notify_path_ = "@daheim-live-supervisor-" + std::to_string(getpid());
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path + 1, notify_path_.data() + 1, notify_path_.size() - 1);
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + notify_path_.size());
  if (bind(notify_fd_, reinterpret_cast<sockaddr*>(&un), len) != 0) {
    log::error("workers: cannot bind the supervisor's notify socket: {}", std::strerror(errno));
    return false;
  }
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sd_watchdog_enabled(0, &watchdog_usec_) <= 0) watchdog_usec_ = 0;
  return signal_fd_ >= 0;
}

[[noreturn]] void Supervisor::run_worker(const Worker& w) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  sigset_t set;
  sigemptyset(&set);
  sigprocmask(SIG_SETMASK, &set, nullptr);
  close(signal_fd_);
  close(notify_fd_);
  for (int fd : reserved_) close(fd);
  setenv("NOTIFY_SOCKET", notify_path_.c_str(), 1);
  if (watchdog_usec_) {
    setenv("WATCHDOG_USEC", std::to_string(watchdog_usec_).c_str(), 1);
    setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  }
  for (auto& l : config_.server.listeners) {
    if (l.inherited_fd >= 0) continue;  // systemd's: every worker accepts on it
    l.inherited_fd = open_shared_listener(l);
    if (l.inherited_fd < 0) {
      log::error("worker {}: cannot listen on {}:{}: {}", w.index, l.host, l.port,
                 std::strerror(errno));
      std::fflush(stderr);
      _exit(1);
    }
  }
  log::notice("worker {} (pid {}) starting", w.index, getpid());
  int status = run_daemon(std::move(config_), fixtures_);
  std::fflush(stderr);
  _exit(status);
}

void Supervisor::spawn(Worker& w) {
  w.ready = false;
  w.started = Clock::now();
  w.last_ping = w.started;
  pid_t pid = fork();
  if (pid == 0) run_worker(w);
  if (pid < 0) {
    log::error("workers: fork failed: {}", std::strerror(errno));
    w.pid = -1;
    w.restart_at = Clock::now() + w.delay;
    return;
  }
  w.pid = pid;
}

Worker* Supervisor::by_pid(pid_t pid) {
  for (auto& w : workers_)
    if (w.pid == pid) return &w;
  return nullptr;
}

void Supervisor::signal_all(int sig) {
  for (auto& w : workers_)
    if (w.pid > 0) kill(w.pid, sig);
}

void Supervisor::on_signal() {
  signalfd_siginfo si{};
  while (read(signal_fd_, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGCHLD) continue;  // reap() looks after every loop turn
    if (si.ssi_signo == SIGHUP) {
      log::notice("workers: reload passed on to {} workers", workers_.size());
      signal_all(SIGHUP);
      continue;
    }
    if (stopping_) continue;
    stopping_ = true;
    sd_notify(0, "STOPPING=1\nSTATUS=stopping the workers");
    log::notice("workers: stopping {} workers", workers_.size());
    signal_all(SIGTERM);
    stop_deadline_ = Clock::now() + config_.server.drain_time + milliseconds(5000);
  }
}

void Supervisor::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    Worker* w = by_pid(pid);
    if (!w) continue;
    w->pid = -1;
    if (stopping_) continue;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == kExitConfig || code == kExitUsage) {
      log::error("workers: worker {} refused its configuration (exit {}); stopping", w->index,
                 code);
      exit_status_ = code;
      stopping_ = true;
      signal_all(SIGTERM);
      stop_deadline_ = Clock::now() + config_.server.drain_time + milliseconds(5000);
      continue;
    }
    auto ran = Clock::now() - w->started;
    w->delay = ran >= kStableRun ? kFirstRestartDelay : std::min(w->delay * 2, kMaxRestartDelay);
    w->restart_at = Clock::now() + (ran >= kStableRun ? milliseconds(0) : w->delay);
    if (WIFSIGNALED(status))
      log::error("workers: worker {} (pid {}) killed by signal {}; starting it again", w->index,
                 pid, WTERMSIG(status));
    else
      log::error("workers: worker {} (pid {}) exited with status {}; starting it again", w->index,
                 pid, code);
  }
}

void Supervisor::on_notify() {
  for (;;) {
    char buf[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{buf, sizeof buf - 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(notify_fd_, &msg, MSG_DONTWAIT);
    if (n < 0) return;
    buf[n] = '\0';
    pid_t pid = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
        pid = reinterpret_cast<ucred*>(CMSG_DATA(c))->pid;
    Worker* w = by_pid(pid);
    if (!w) continue;
    std::string_view text(buf, static_cast<std::size_t>(n));
    w->last_ping = Clock::now();
    if (text.find("READY=1") != std::string_view::npos && !w->ready) {
      w->ready = true;
      w->delay = kFirstRestartDelay;
    }
  }
}

// Restarts, the watchdog, the end of the stop.
void Supervisor::tick() {
  auto now = Clock::now();
  if (!stopping_)
    for (auto& w : workers_)
      if (w.pid < 0 && now >= w.restart_at) spawn(w);
  if (!all_ready_ &&
      std::all_of(workers_.begin(), workers_.end(), [](const Worker& w) { return w.ready; })) {
    all_ready_ = true;
    const auto& l = config_.server.listeners.front();
    std::string url = "http://" +
                      (l.host.find(':') != std::string::npos ? "[" + l.host + "]" : l.host) + ":" +
                      std::to_string(l.port);
    log::notice("workers: {} ready, listening on {}", workers_.size(), url);
    sd_notify(
        0, ("READY=1\nSTATUS=" + std::to_string(workers_.size()) + " workers on " + url).c_str());
  }
  if (watchdog_usec_ && now >= next_watchdog_) {
    auto limit = std::chrono::microseconds(watchdog_usec_);
    for (auto& w : workers_)
      if (w.pid > 0 && w.ready && now - w.last_ping > limit) {
        log::error("workers: worker {} (pid {}) missed its watchdog; killing it", w.index, w.pid);
        kill(w.pid, SIGKILL);
      }
    sd_notify(0, "WATCHDOG=1");
    next_watchdog_ = now + std::chrono::microseconds(watchdog_usec_ / 2);
  }
  if (stopping_ && now >= stop_deadline_) signal_all(SIGKILL);
}

int Supervisor::next_timeout() const {
  auto now = Clock::now();
  auto next = now + milliseconds(1000);
  for (const auto& w : workers_)
    if (w.pid < 0 && !stopping_) next = std::min(next, w.restart_at);
  if (watchdog_usec_) next = std::min(next, next_watchdog_);
  if (stopping_) next = std::min(next, stop_deadline_);
  auto ms = std::chrono::duration_cast<milliseconds>(next - now).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 1000));
}

int Supervisor::run() {
  if (!set_up()) return kExitConfig;
  log::notice("workers: starting {} workers", config_.workers);
  workers_.resize(static_cast<std::size_t>(config_.workers));
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i].index = static_cast<int>(i + 1);
    spawn(workers_[i]);
  }
  next_watchdog_ = Clock::now();
  for (;;) {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {notify_fd_, POLLIN, 0}};
    poll(fds, 2, next_timeout());
    if (fds[0].revents & POLLIN) on_signal();
    if (fds[1].revents & POLLIN) on_notify();
    reap();
    if (stopping_ &&
        std::none_of(workers_.begin(), workers_.end(), [](const Worker& w) { return w.pid > 0; }))
      break;
    tick();
  }
  log::notice("workers: stopped");
  for (int fd : reserved_) close(fd);
  return exit_status_;
}

}  // namespace

int run_supervisor(Config config, const Fixtures* fixtures) {
  log::set_level(config.log_level);
  Supervisor supervisor(std::move(config), fixtures);
  return supervisor.run();
}

}  // namespace daheim::app
