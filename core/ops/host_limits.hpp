// Host limits against what the configuration asks for: the open-file limit
// against engineio.maxConnections, net.core.somaxconn against the listen
// backlog, the conntrack table against maxConnections. Checked once at
// start; each shortfall is one warning naming the setting to raise.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace daheim::ops {

// What the host allows; -1 where it is unknown or unlimited.
struct HostLimits {
  long long open_files = -1;     // RLIMIT_NOFILE, soft
  long long somaxconn = -1;      // net.core.somaxconn
  long long conntrack_max = -1;  // net.netfilter.nf_conntrack_max (-1: no conntrack)
};

// What the server will ask of the host.
struct CapacityAsked {
  std::size_t max_connections = 0;  // engineio.maxConnections
  int listen_backlog = 0;           // what listen() is asked for
};

// Descriptors the server needs beside its connections (transport keeps the
// same reserve below RLIMIT_NOFILE: listeners, plugins' files, the log).
inline constexpr long long kFdsBesideConnections = 64;

// The backlog libwebsockets passes to listen(): SOMAXCONN.
int default_listen_backlog();

// Reads the limits of this process and host; `proc_sys` is /proc/sys.
HostLimits read_host_limits(const std::string& proc_sys = "/proc/sys");

// One warning per limit below what `asked` needs (empty: all fit).
std::vector<std::string> host_limit_warnings(const HostLimits& host, const CapacityAsked& asked);

// Reads the limits and logs the warnings.
void warn_host_limits(const CapacityAsked& asked);

}  // namespace daheim::ops
