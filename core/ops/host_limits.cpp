#include "ops/host_limits.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <fstream>

#include "log/log.hpp"

namespace daheim::ops {

namespace {

long long read_number(const std::string& file) {
  std::ifstream in(file);
  long long v = -1;
  if (!(in >> v)) return -1;
  return v;
}

std::string fd_warning(long long open_files, std::size_t max_connections) {
  long long fit = std::max(open_files - kFdsBesideConnections, 0LL);
  return fmt::format(
      "engineio.maxConnections is {} but the open-file limit (RLIMIT_NOFILE) is {}: at most {} "
      "connections will be accepted; raise LimitNOFILE= (the packaged unit sets 1048576) or "
      "`ulimit -n`, or lower engineio.maxConnections",
      max_connections, open_files, fit);
}

std::string backlog_warning(long long somaxconn, int backlog) {
  return fmt::format(
      "net.core.somaxconn is {}, below the listen backlog of {} the server asks for: the kernel "
      "cuts the backlog to {}, and connections arriving in a burst (every client reconnecting "
      "after a restart) beyond it are dropped and retried; set net.core.somaxconn in "
      "/etc/sysctl.d/ (the package's /usr/lib/sysctl.d/60-daheim-live.conf sets 65535)",
      somaxconn, backlog, somaxconn);
}

std::string conntrack_warning(long long conntrack_max, std::size_t max_connections) {
  return fmt::format(
      "net.netfilter.nf_conntrack_max is {}, below engineio.maxConnections {}: when the "
      "connection-tracking table is full the kernel drops new connections (\"nf_conntrack: table "
      "full\"); raise it in /etc/sysctl.d/ (the package's /usr/lib/sysctl.d/60-daheim-live.conf "
      "sets 2097152) or exempt the port from tracking",
      conntrack_max, max_connections);
}

}  // namespace

int default_listen_backlog() {
  return SOMAXCONN;
}

HostLimits read_host_limits(const std::string& proc_sys) {
  HostLimits h;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    h.open_files = static_cast<long long>(rl.rlim_cur);
  h.somaxconn = read_number(proc_sys + "/net/core/somaxconn");
  h.conntrack_max = read_number(proc_sys + "/net/netfilter/nf_conntrack_max");
  return h;
}

std::vector<std::string> host_limit_warnings(const HostLimits& host, const CapacityAsked& asked) {
  std::vector<std::string> out;
  auto wanted = static_cast<long long>(asked.max_connections);
  if (host.open_files >= 0 && wanted + kFdsBesideConnections > host.open_files)
    out.push_back(fd_warning(host.open_files, asked.max_connections));
  if (host.somaxconn >= 0 && host.somaxconn < asked.listen_backlog)
    out.push_back(backlog_warning(host.somaxconn, asked.listen_backlog));
  if (host.conntrack_max >= 0 && host.conntrack_max < wanted)
    out.push_back(conntrack_warning(host.conntrack_max, asked.max_connections));
  return out;
}

void warn_host_limits(const CapacityAsked& asked) {
  for (const std::string& w : host_limit_warnings(read_host_limits(), asked))
    log::warning("host limits: {}", w);
}

}  // namespace daheim::ops
