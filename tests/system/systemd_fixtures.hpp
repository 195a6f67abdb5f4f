// What the systemd tests share: the binary under test and a NOTIFY_SOCKET
// listener (a unix datagram socket in /tmp taking the server's sd_notify()s).
#pragma once

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace daheim::testing {

// In a child just forked by the test (`parent`: the test's pid, read before
// the fork): the kernel kills the child when the test process ends, however
// it ends (a SIGKILLed runner leaves no server or redis-server behind).
inline void die_with_parent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);  // the parent was gone already
}

inline const char* daheim_live_binary() {
  const char* b = std::getenv("DAHEIM_LIVE_BIN");
  return b ? b : "build/core/app/daheim-live";
}

class NotifySocket {
 public:
  // `name`: the file's prefix (the test's pid is appended); next() waits at
  // most `timeout_s` seconds.
  NotifySocket(const std::string& name, int timeout_s) {
    path_ = "/tmp/" + name + "-" + std::to_string(getpid());
    unlink(path_.c_str());
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{timeout_s, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  const std::string& path() const { return path_; }
  // The next datagram, or "" once the timeout passed.
  std::string next() {
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// SIGTERM to `pid`: the next datagram past the watchdog pings says
// STOPPING=1, then the process exits with status 0.
inline void expect_clean_stop(pid_t pid, NotifySocket& sock) {
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  std::string m;
  do {
    m = sock.next();
  } while (m == "WATCHDOG=1");
  EXPECT_EQ(m.rfind("STOPPING=1", 0), 0u) << m;
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace daheim::testing
