// daheim-loadgen: a single-threaded Engine.IO 4 / Socket.IO 5 load generator
// on raw epoll, for loading a server from one core of the same machine.
//
// It speaks just enough of the protocols for the benchmark scenarios:
// WebSocket (client frames masked with a zero key, no extensions) and HTTP/1.1
// long-polling (Content-Length bodies, keep-alive), the Engine.IO open, ping
// and message packets, and the Socket.IO CONNECT, EVENT and ACK packets on one
// namespace. Sockets are spread over the source addresses 127.0.0.2 and up
// (IP_BIND_ADDRESS_NO_PORT, so each address has its own ephemeral ports).
//
// Each run prints one JSON object on stdout: the scenario's counts, rates and
// latency percentiles, and the server's CPU (user and system, all threads) and
// RSS read from /proc/PID when --server-pid is given (summed over several PIDs).
//
// Scenarios (see --help): echo, idle, fanout, storm, and daheim: the Daheim
// workload (users with tokens, presence and push plugins) with service levels.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jwt_hs256.hpp"

namespace {

// --- time, stats ---------------------------------------------------------------

using Nanos = std::int64_t;

Nanos now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Nanos(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double seconds(Nanos d) {
  return static_cast<double>(d) / 1e9;
}

// Latency samples in nanoseconds.
struct Samples {
  std::vector<Nanos> v;
  void add(Nanos d) { v.push_back(d); }
  // Percentile in microseconds (nearest rank); 0 when empty.
  double pct_us(double p) {
    if (v.empty()) return 0;
    if (!sorted_) std::sort(v.begin(), v.end()), sorted_ = true;
    auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()));
    if (i >= v.size()) i = v.size() - 1;
    return static_cast<double>(v[i]) / 1e3;
  }
  double max_us() { return pct_us(100); }

 private:
  bool sorted_ = false;
};

// CPU of a process, all threads: total from the tasks' schedstat (ns), the
// user/system split from /proc/PID/stat (clock ticks).
struct ProcCpu {
  double total_s = 0;
  double wait_s = 0;  // runnable but waiting for a CPU (schedstat's run delay)
  double user_s = 0;
  double sys_s = 0;
  long rss_kb = 0;
  bool ok = false;
};

ProcCpu read_proc(int pid) {
  ProcCpu c;
  if (pid <= 0) return c;
  std::string base = "/proc/" + std::to_string(pid);
  {
    std::ifstream f(base + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto rp = s.rfind(')');
    if (rp == std::string::npos) return c;
    // Fields after the command: state(3) ... utime(14) stime(15).
    const char* p = s.c_str() + rp + 2;
    unsigned long long ut = 0, st = 0;
    int field = 3;
    while (*p && field < 14) {
      if (*p++ == ' ') ++field;
    }
    if (std::sscanf(p, "%llu %llu", &ut, &st) != 2) return c;
    double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    c.user_s = static_cast<double>(ut) / tick;
    c.sys_s = static_cast<double>(st) / tick;
  }
  double sched = 0;
  if (DIR* d = opendir((base + "/task").c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream f(base + "/task/" + e->d_name + "/schedstat");
      unsigned long long ns = 0, delay = 0;
      if (f >> ns >> delay) {
        sched += static_cast<double>(ns) / 1e9;
        c.wait_s += static_cast<double>(delay) / 1e9;
      }
    }
    closedir(d);
  }
  c.total_s = sched > 0 ? sched : c.user_s + c.sys_s;
  std::ifstream st(base + "/status");
  std::string line;
  while (std::getline(st, line))
    if (line.rfind("VmRSS:", 0) == 0) c.rss_kb = std::strtol(line.c_str() + 6, nullptr, 10);
  c.ok = true;
  return c;
}

// The sum over several processes (a supervisor and its workers, two nodes).
ProcCpu read_procs(const std::vector<int>& pids) {
  ProcCpu sum;
  for (int pid : pids) {
    ProcCpu c = read_proc(pid);
    sum.total_s += c.total_s;
    sum.wait_s += c.wait_s;
    sum.user_s += c.user_s;
    sum.sys_s += c.sys_s;
    sum.rss_kb += c.rss_kb;
    sum.ok = sum.ok || c.ok;
  }
  return sum;
}

struct SelfCpu {
  double user_s = 0, sys_s = 0;
};

SelfCpu read_self() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return {tv(ru.ru_utime), tv(ru.ru_stime)};
}

// A measured interval: wall time, server CPU, our own CPU.
struct Window {
  std::vector<int> pids;
  Nanos t0 = 0, t1 = 0;
  ProcCpu s0, s1;
  SelfCpu c0, c1;
  ProcCpu m0, m1;  // this process, for its run delay
  void start(const std::vector<int>& p) {
    pids = p;
    s0 = read_procs(pids);
    c0 = read_self();
    m0 = read_proc(getpid());
    t0 = now_ns();
  }
  void stop() {
    t1 = now_ns();
    s1 = read_procs(pids);
    c1 = read_self();
    m1 = read_proc(getpid());
  }
  double wall() const { return seconds(t1 - t0); }
  double server_cpu() const { return s1.total_s - s0.total_s; }
  double server_wait() const { return s1.wait_s - s0.wait_s; }
  double client_wait() const { return m1.wait_s - m0.wait_s; }
  double server_sys_share() const {
    double u = s1.user_s - s0.user_s, s = s1.sys_s - s0.sys_s;
    return u + s > 0 ? s / (u + s) : 0;
  }
  double client_cpu() const { return (c1.user_s - c0.user_s) + (c1.sys_s - c0.sys_s); }
};

// --- JSON output ------------------------------------------------------------------

// The --before / --after shell commands (e.g. callgrind_control -i on PID).
void hook(const std::string& cmd) {
  if (!cmd.empty() && std::system(cmd.c_str()) != 0)
    std::fprintf(stderr, "loadgen: `%s` failed\n", cmd.c_str());
}

// The same without waiting (the measured clients keep being served): the
// returned pid goes to hook_wait. 0 when there is nothing to run.
pid_t hook_start(const std::string& cmd) {
  if (cmd.empty()) return 0;
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid < 0) std::fprintf(stderr, "loadgen: cannot run `%s`\n", cmd.c_str());
  return pid > 0 ? pid : 0;
}

void hook_wait(pid_t pid, const std::string& cmd) {
  int status = 0;
  if (pid > 0 && (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)))
    std::fprintf(stderr, "loadgen: `%s` failed\n", cmd.c_str());
}

class Out {
 public:
  void num(const char* k, double v) {
    sep();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    s_ += '"';
    s_ += k;
    s_ += "\":";
    s_ += buf;
  }
  void str(const char* k, std::string_view v) {
    sep();
    s_ += '"';
    s_ += k;
    s_ += "\":\"";
    for (char ch : v) {
      if (ch == '"' || ch == '\\') s_ += '\\';
      if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
      s_ += ch;
    }
    s_ += '"';
  }
  void window(const char* prefix, const Window& w, double ops) {
    std::string p(prefix);
    num((p + "wall_s").c_str(), w.wall());
    num((p + "ops").c_str(), ops);
    num((p + "ops_per_s").c_str(), w.wall() > 0 ? ops / w.wall() : 0);
    num((p + "server_cpu_s").c_str(), w.server_cpu());
    num((p + "server_wait_s").c_str(), w.server_wait());
    num((p + "server_sys_share").c_str(), w.server_sys_share());
    num((p + "server_us_per_op").c_str(), ops > 0 ? w.server_cpu() * 1e6 / ops : 0);
    num((p + "client_cpu_s").c_str(), w.client_cpu());
    num((p + "client_wait_s").c_str(), w.client_wait());
    num((p + "client_us_per_op").c_str(), ops > 0 ? w.client_cpu() * 1e6 / ops : 0);
  }
  void latency(const char* prefix, Samples& s) {
    std::string p(prefix);
    num((p + "p50_us").c_str(), s.pct_us(50));
    num((p + "p99_us").c_str(), s.pct_us(99));
    num((p + "p999_us").c_str(), s.pct_us(99.9));
    num((p + "max_us").c_str(), s.max_us());
  }
  std::string done() { return "{" + s_ + "}"; }

 private:
  void sep() {
    if (!s_.empty()) s_ += ',';
  }
  std::string s_;
};

// --- options ------------------------------------------------------------------------

struct Options {
  std::string scenario;
  std::string host = "127.0.0.1";
  int port = 3000;
  int port2 = 0;  // a second node: odd clients connect there (a two-node cluster)
  std::string path = "/socket.io/";
  // "polling", or "upgrade": polling first, then the upgrade to websocket, as
  // socket.io-client does with its default options
  std::string transport = "websocket";
  int conns = 0;                 // idle / fan-out receivers / storm connections
  int clients = 1;               // echo clients
  double duration = 5;           // measured seconds (echo, fan-out paced)
  double warmup = 1;             // echo warm-up seconds
  double rate = 0;               // echo: acks/s offered (0: back-to-back); fan-out: emits/s
  int burst = 0;                 // fan-out: emits sent at once
  double hold = 0;               // idle: seconds to hold the connections
  int window = 256;              // connections being set up at once
  int sources = 16;              // source addresses 127.0.0.2 ...
  int payload = 16;              // bytes of the echoed string
  std::vector<int> server_pids;  // CPU, run delay and RSS are their sum
  std::string before;            // shell command run right before the measured echo phase
  std::string after;             // ... and right after it
  double timeout = 60;           // give up a phase after this many seconds
  // The Daheim workload (scenario `daheim`); rates are per user and minute.
  struct Daheim {
    int users = 1000;
    double teacher_share = 0.2;   // the rest are students
    double two_tab_share = 0.15;  // users with a second tab open
    double polling_share = 0.05;  // users on HTTP long-polling (proxies that block WebSocket)
    double churn_per_min = 0.05;  // leaves (and comes back as a new connection): ~20-minute visits
    double ready_per_min = 0.2;   // ready toggles per student
    // Students ready when the measured phase starts; < 0: the steady state of the
    // toggles and the churn (a new visit starts not ready): r / (2r + c).
    double ready_share = -1;
    double calls_per_min = 1;   // `$presence.list` calls per user
    double push_per_min = 0.5;  // pushes per user via POST /api/v1/push
    std::string secret = "daheim-live-development-secret-never-use-in-production";
    std::string audience = "realtime";
    std::string role_claim = "role";
    std::string push_secret = "daheim-live-development-push-secret-never-in-production";
    std::string push_path = "/api/v1/push";
    int api_port = 0;           // 0: the Socket.IO port
    int api_conns = 16;         // the API server's pool: one request at a time each
    double drain = 10;          // seconds to wait for the last acks and pushes
    double slo_ack_ms = 250;    // p99 ack latency
    double slo_push_ms = 1000;  // p99 push delivery latency
    double slo_cpu = 0.8;       // server CPU as a share of its cores
    double server_cores = 1;
    int drop_push_every = 0;  // self-test: ignore every K-th push that arrives
    unsigned seed = 1;
  } d;
};

[[noreturn]] void usage(int code) {
  std::fputs(
      "usage: daheim-loadgen SCENARIO --port N [options]\n"
      "scenarios:\n"
      "  echo    --clients C [--rate R] [--duration S] [--transport websocket|polling]\n"
      "          C Socket.IO clients send message-with-ack; back-to-back (one outstanding\n"
      "          each) or R acks/s in total, paced\n"
      "  idle    --conns N --hold S [--clients C --duration S]\n"
      "          N idle websocket clients held S seconds (server RSS), then optionally\n"
      "          an echo run beside them\n"
      "  fanout  --conns N [--burst B] [--rate R --duration S]\n"
      "          N clients; one sends `broadcast` {event:tick}: B at once, then R/s paced\n"
      "  storm   --conns N [--window W]   N clients connect, W at a time\n"
      "  --transport upgrade (echo, storm): polling handshake, CONNECT over polling, then\n"
      "          the websocket probe and upgrade, as socket.io-client's defaults do; a client\n"
      "          counts as connected once CONNECT is acked and the upgrade sent\n"
      "common: --host H --path P --server-pid PID[,PID...] --sources K --window W --payload BYTES\n"
      "        (several PIDs: the server's CPU, run delay and RSS are their sum)\n"
      "        --warmup S --timeout S\n"
      "        --before CMD --after CMD: shell commands run around the measured phase\n"
      "        (echo; fan-out burst; storm connect; idle hold without --clients; daheim),\n"
      "        e.g. callgrind_control -i on|off PID\n"
      "        --port2 N: a second node; odd clients connect there, the sender is even\n"
      "        (daheim: odd tabs and odd push ingress connections)\n"
      "  daheim  --users N [--duration S] and the flags below: N Daheim users with HS256\n"
      "          tokens, presence and push plugins; churn, ready toggles, $presence.list\n"
      "          calls, pushes via HTTP; checks the service levels, exits 3 when one failed\n"
      "          --teacher-share F (0.2) --two-tab-share F (0.15) --polling-share F (0.05)\n"
      "          per user and minute: --churn-per-min R (0.05: 20-minute visits)\n"
      "          --ready-per-min R (0.2, students) --calls-per-min R (1) --push-per-min R (0.5)\n"
      "          --ready-share F: students made ready before the measured phase (default:\n"
      "          the steady state of toggles and churn, r/(2r+c): 0.44 with the defaults)\n"
      "          --secret S --audience A --role-claim C --push-secret S --push-path P\n"
      "          --api-port N --api-conns K (16) --drain S (10) --seed N\n"
      "          service levels: --slo-ack-ms MS (250) --slo-push-ms MS (1000) (p99 each)\n"
      "          --slo-cpu F (0.8 of --server-cores N, 1); no missed push or ack, no\n"
      "          disconnect the client did not ask for\n"
      "          --drop-push-every K (self-test: count every K-th push as not arrived)\n",
      code ? stderr : stdout);
  std::exit(code);
}

bool parse_daheim(Options::Daheim& d, const std::string& a, const std::string& v) {
  double x = std::strtod(v.c_str(), nullptr);
  int n = static_cast<int>(x);
  if (a == "--users")
    d.users = n;
  else if (a == "--teacher-share")
    d.teacher_share = x;
  else if (a == "--two-tab-share")
    d.two_tab_share = x;
  else if (a == "--polling-share")
    d.polling_share = x;
  else if (a == "--churn-per-min")
    d.churn_per_min = x;
  else if (a == "--ready-per-min")
    d.ready_per_min = x;
  else if (a == "--ready-share")
    d.ready_share = x;
  else if (a == "--calls-per-min")
    d.calls_per_min = x;
  else if (a == "--push-per-min")
    d.push_per_min = x;
  else if (a == "--secret")
    d.secret = v;
  else if (a == "--audience")
    d.audience = v;
  else if (a == "--role-claim")
    d.role_claim = v;
  else if (a == "--push-secret")
    d.push_secret = v;
  else if (a == "--push-path")
    d.push_path = v;
  else if (a == "--api-port")
    d.api_port = n;
  else if (a == "--api-conns")
    d.api_conns = std::max(n, 1);
  else if (a == "--drain")
    d.drain = x;
  else if (a == "--slo-ack-ms")
    d.slo_ack_ms = x;
  else if (a == "--slo-push-ms")
    d.slo_push_ms = x;
  else if (a == "--slo-cpu")
    d.slo_cpu = x;
  else if (a == "--server-cores")
    d.server_cores = x;
  else if (a == "--drop-push-every")
    d.drop_push_every = n;
  else if (a == "--seed")
    d.seed = static_cast<unsigned>(n);
  else
    return false;
  return true;
}

// `PID[,PID...]`: the server's processes.
std::vector<int> pid_list(const std::string& v) {
  std::vector<int> pids;
  for (const char* p = v.c_str(); *p;) {
    char* end = nullptr;
    long pid = std::strtol(p, &end, 10);
    if (end == p || pid <= 0) usage(64);
    pids.push_back(static_cast<int>(pid));
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') usage(64);
  }
  return pids;
}

Options parse_args(int argc, char** argv) {
  Options o;
  if (argc < 2) usage(64);
  o.scenario = argv[1];
  if (o.scenario == "--help" || o.scenario == "-h") usage(0);
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(64);
    std::string v = argv[++i];
    auto d = [&] { return std::strtod(v.c_str(), nullptr); };
    auto n = [&] { return static_cast<int>(std::strtol(v.c_str(), nullptr, 10)); };
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = n();
    else if (a == "--port2")
      o.port2 = n();
    else if (a == "--path")
      o.path = v;
    else if (a == "--transport")
      o.transport = v;
    else if (a == "--conns")
      o.conns = n();
    else if (a == "--clients")
      o.clients = n();
    else if (a == "--duration")
      o.duration = d();
    else if (a == "--warmup")
      o.warmup = d();
    else if (a == "--rate")
      o.rate = d();
    else if (a == "--burst")
      o.burst = n();
    else if (a == "--hold")
      o.hold = d();
    else if (a == "--window")
      o.window = n();
    else if (a == "--sources")
      o.sources = n();
    else if (a == "--payload")
      o.payload = n();
    else if (a == "--server-pid")
      o.server_pids = pid_list(v);
    else if (a == "--before")
      o.before = v;
    else if (a == "--after")
      o.after = v;
    else if (a == "--timeout")
      o.timeout = d();
    else if (!parse_daheim(o.d, a, v))
      usage(64);
  }
  if (o.transport != "websocket" && o.transport != "polling" && o.transport != "upgrade") usage(64);
  return o;
}

// --- connections -----------------------------------------------------------------------

struct Client;

enum class Role { Ws, PollGet, PollPost, Api };

const char* role_name(Role r) {
  switch (r) {
    case Role::Ws:
      return "websocket";
    case Role::PollGet:
      return "polling GET";
    case Role::PollPost:
      return "polling POST";
    case Role::Api:
      return "push ingress";
  }
  return "?";
}
enum class ConnState { Connecting, Handshake, Open, Closed };

struct Conn {
  int fd = -1;
  Role role = Role::Ws;
  ConnState state = ConnState::Connecting;
  Client* client = nullptr;
  std::string in;
  std::size_t in_off = 0;
  std::string out;  // not yet written
  bool want_out = false;
  bool busy = false;  // HTTP: a request is in flight
};

enum class Phase { New, Connecting, Connected, Failed, Closed };

struct Client {
  int id = 0;
  Phase phase = Phase::New;
  bool polling = false;
  // --transport upgrade: probing a websocket beside polling, "3probe" seen,
  // the upgrade sent; the CONNECT ack seen (connected once both are done).
  bool upgrade = false, probed = false, upgraded = false, sio_open = false;
  Conn ws, get, post;
  std::string sid;
  std::string post_queue;  // polling: packets waiting for the POST connection
  std::uint64_t next_ack = 0;
  std::deque<Nanos> sent;  // send (or scheduled) times of outstanding acks, in order
  Nanos started = 0;
  Nanos connected = 0;
  // The Daheim workload: the CONNECT payload (the token), the user and tab
  // this client is, and its calls waiting for an ack (id, due time).
  std::string connect_payload;
  int user = -1;
  int tab = 0;
  std::vector<std::pair<std::uint64_t, Nanos>> calls;
};

class Scenario;

class Engine {
 public:
  explicit Engine(const Options& o) : o_(o) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    inet_pton(AF_INET, o.host.c_str(), &server_.sin_addr);
    server_.sin_family = AF_INET;
    server_.sin_port = htons(static_cast<std::uint16_t>(o.port));
    host_header_ = o.host + ":" + std::to_string(o.port);
    server2_ = server_;
    if (o.port2 > 0) server2_.sin_port = htons(static_cast<std::uint16_t>(o.port2));
  }

  Scenario* scenario = nullptr;
  int errors = 0;
  std::string last_error;
  static constexpr int kErrorsLogged = 5;
  // Failures of clients still setting up (seconds since they started) and of
  // connected clients (seconds they had been connected).
  Samples failed_setting_up, failed_connected;

  // Starts a client's connection set-up.
  void open(Client& c, bool polling) {
    c.polling = polling;
    c.upgrade = polling && o_.transport == "upgrade";
    c.probed = c.upgraded = c.sio_open = false;
    c.phase = Phase::Connecting;
    c.started = now_ns();
    if (polling) {
      start_conn(c, c.get, Role::PollGet);
    } else {
      start_conn(c, c.ws, Role::Ws);
    }
  }

  void close_client(Client& c) {
    for (Conn* k : {&c.ws, &c.get, &c.post}) close_conn(*k);
    c.phase = Phase::Closed;
  }

  // Sends one Engine.IO message packet ("4" + text).
  void send_message(Client& c, std::string_view sio) {
    if (!c.polling) {
      ws_send(c.ws, '4', sio);
    } else {
      if (!c.post_queue.empty()) c.post_queue += '\x1e';
      c.post_queue += '4';
      c.post_queue += sio;
      flush_post(c);
    }
  }

  // HTTP/1.1 keep-alive client to the server (the push ingress): `c.ws`
  // carries one request at a time, answered through Scenario::on_http. The
  // TCP connection opens with the first request, as an HTTP agent's does: the
  // server closes a connection that sent nothing for 10 s, and a request
  // crossing that close would be lost (a reset, not a push the server missed).
  void open_api(Client& c) {
    c.phase = Phase::Connected;
    c.connected = now_ns();
    c.ws = Conn{};
    c.ws.role = Role::Api;
    c.ws.client = &c;
  }
  bool api_idle(const Client& c) const { return !c.ws.busy; }
  void api_request(Client& c, std::string_view request) {
    if (c.ws.fd < 0) start_conn(c, c.ws, Role::Api);
    c.ws.busy = true;
    queue(c.ws, request);
  }
  const std::string& host_header() const { return host_header_; }

  // Runs the loop once, waiting at most timeout_ms.
  void poll_once(int timeout_ms) { poll_for(Nanos(timeout_ms) * 1'000'000); }
  // Runs the loop once, waiting at most `timeout` (ns, clamped at 0).
  void poll_for(Nanos timeout);

 private:
  void start_conn(Client& c, Conn& k, Role role);
  void close_conn(Conn& k) {
    if (k.fd >= 0) {
      ::close(k.fd);
      k.fd = -1;
    }
    k.state = ConnState::Closed;
    k.in.clear();
    k.in_off = 0;
    k.out.clear();
  }
  void fail(Client& c, const std::string& why);
  void on_event(Conn& k, std::uint32_t ev);
  void write_some(Conn& k);
  void queue(Conn& k, std::string_view bytes) {
    if (k.state == ConnState::Closed) return;
    k.out.append(bytes);
    if (k.state != ConnState::Connecting) write_some(k);
  }
  void set_out(Conn& k, bool on) {
    if (k.want_out == on) return;
    k.want_out = on;
    epoll_event e{};
    e.events = on ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    e.data.ptr = &k;
    epoll_ctl(ep_, EPOLL_CTL_MOD, k.fd, &e);
  }
  void ws_send(Conn& k, char eio_type, std::string_view text);
  void parse_ws(Conn& k);
  void parse_http(Conn& k);
  void on_http_body(Conn& k, std::string_view body);
  void on_eio(Client& c, std::string_view packet);
  void on_sio(Client& c, std::string_view packet);
  void send_get(Client& c);
  void flush_post(Client& c);
  void maybe_upgrade(Client& c);
  void maybe_connected(Client& c);

  const Options& o_;
  int ep_ = -1;
  sockaddr_in server_{};
  sockaddr_in server2_{};  // --port2: the node of the odd clients
  std::string host_header_;
  unsigned next_source_ = 0;
};

class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual void on_connected(Client&) {}
  virtual void on_failed(Client&) {}
  // A connected client failed: a disconnect it did not ask for.
  virtual void on_lost(Client&) {}
  virtual void on_ack(Client&, std::uint64_t /*id*/, std::string_view /*args*/) {}
  virtual void on_http(Client&, int /*status*/, std::string_view /*body*/) {}
  virtual void on_event(Client&, std::string_view /*array*/) {}
};

void Engine::start_conn(Client& c, Conn& k, Role role) {
  k = Conn{};
  k.role = role;
  k.client = &c;
  k.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (k.fd < 0) return fail(c, std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(k.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (o_.sources > 0) {
    setsockopt(k.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000002u + (next_source_++ % static_cast<unsigned>(o_.sources)));
    if (::bind(k.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
      return fail(c, std::string("bind: ") + std::strerror(errno));
  }
  const sockaddr_in& to = o_.port2 > 0 && c.id % 2 == 1 ? server2_ : server_;
  int r = ::connect(k.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  if (r != 0 && errno != EINPROGRESS)
    return fail(c, std::string("connect: ") + std::strerror(errno));
  epoll_event e{};
  e.events = EPOLLIN | EPOLLOUT;
  e.data.ptr = &k;
  k.want_out = true;
  epoll_ctl(ep_, EPOLL_CTL_ADD, k.fd, &e);
  k.state = ConnState::Connecting;
  if (role == Role::Ws) {
    std::string sid = c.sid.empty() ? std::string() : "&sid=" + c.sid;
    k.out = "GET " + o_.path + "?EIO=4&transport=websocket" + sid +
            " HTTP/1.1\r\nHost: " + host_header_ +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  } else if (role == Role::PollGet) {
    k.busy = true;
    k.out = "GET " + o_.path + "?EIO=4&transport=polling HTTP/1.1\r\nHost: " + host_header_ +
            "\r\n\r\n";
  }
}

void Engine::fail(Client& c, const std::string& why) {
  ++errors;
  last_error = why;
  // The first few say why on stderr as they happen (a test that waits for
  // the clients reads it; the report has only the last one).
  if (errors <= kErrorsLogged) std::fprintf(stderr, "loadgen: client %d: %s\n", c.id, why.c_str());
  bool was_connecting = c.phase == Phase::Connecting;
  if (was_connecting)
    failed_setting_up.add(now_ns() - c.started);
  else if (c.phase == Phase::Connected)
    failed_connected.add(now_ns() - c.connected);
  bool was_connected = c.phase == Phase::Connected;
  close_client(c);
  c.phase = Phase::Failed;
  if (was_connecting && scenario) scenario->on_failed(c);
  if (was_connected && scenario) scenario->on_lost(c);
}

void Engine::write_some(Conn& k) {
  while (!k.out.empty()) {
    ssize_t n = ::send(k.fd, k.out.data(), k.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) break;
      return fail(*k.client, std::string(role_name(k.role)) + " send: " + std::strerror(errno));
    }
    k.out.erase(0, static_cast<std::size_t>(n));
  }
  if (k.fd >= 0) set_out(k, !k.out.empty());
}

void Engine::poll_for(Nanos timeout) {
  epoll_event evs[256];
  timeout = std::max<Nanos>(timeout, 0);
  timespec ts{static_cast<time_t>(timeout / 1'000'000'000),
              static_cast<long>(timeout % 1'000'000'000)};
  int n = epoll_pwait2(ep_, evs, 256, &ts, nullptr);
  for (int i = 0; i < n; ++i) on_event(*static_cast<Conn*>(evs[i].data.ptr), evs[i].events);
}

void Engine::on_event(Conn& k, std::uint32_t ev) {
  Client& c = *k.client;
  if (k.state == ConnState::Closed) return;
  if (k.state == ConnState::Connecting) {
    if (ev & (EPOLLERR | EPOLLHUP)) {
      int err = 0;
      socklen_t l = sizeof err;
      getsockopt(k.fd, SOL_SOCKET, SO_ERROR, &err, &l);
      return fail(c, std::string("connect: ") + std::strerror(err ? err : ECONNRESET));
    }
    if (!(ev & EPOLLOUT)) return;
    k.state = ConnState::Handshake;
    if (k.role == Role::PollPost || k.role == Role::Api) k.state = ConnState::Open;
    write_some(k);
    if (k.fd < 0) return;
  } else if (ev & EPOLLOUT) {
    write_some(k);
    if (k.fd < 0) return;
  }
  if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(k.fd, buf, sizeof buf, 0);
      if (n > 0) {
        k.in.append(buf, static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < sizeof buf) break;
        continue;
      }
      if (n == 0 && (k.role == Role::PollPost || k.role == Role::Api) && !k.busy) {
        // An idle keep-alive connection timed out (Node closes them after 5 s);
        // the ingress opens its next one with its next request.
        close_conn(k);
        if (k.role == Role::PollPost) start_conn(c, k, k.role);
        return;
      }
      if (n == 0) return fail(c, std::string("closed by the server: ") + role_name(k.role));
      if (errno == EAGAIN) break;
      return fail(c, std::string(role_name(k.role)) + " recv: " + std::strerror(errno));
    }
    if (k.role == Role::Ws && k.state == ConnState::Open) {
      parse_ws(k);
    } else {
      parse_http(k);
    }
  }
}

void Engine::ws_send(Conn& k, char eio_type, std::string_view text) {
  std::size_t len = text.size() + 1;
  char hdr[14];
  std::size_t h = 0;
  hdr[h++] = static_cast<char>(0x81);
  if (len < 126) {
    hdr[h++] = static_cast<char>(0x80 | len);
  } else if (len < 65536) {
    hdr[h++] = static_cast<char>(0x80 | 126);
    hdr[h++] = static_cast<char>(len >> 8);
    hdr[h++] = static_cast<char>(len & 0xff);
  } else {
    hdr[h++] = static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) hdr[h++] = static_cast<char>((len >> (8 * i)) & 0xff);
  }
  for (int i = 0; i < 4; ++i) hdr[h++] = 0;  // zero mask: the payload goes as is
  std::string frame;
  frame.reserve(h + len);
  frame.append(hdr, h);
  frame += eio_type;
  frame.append(text);
  queue(k, frame);
}

void Engine::parse_ws(Conn& k) {
  Client& c = *k.client;
  for (;;) {
    std::size_t avail = k.in.size() - k.in_off;
    const auto* p = reinterpret_cast<const unsigned char*>(k.in.data() + k.in_off);
    if (avail < 2) break;
    int opcode = p[0] & 0x0f;
    std::uint64_t len = p[1] & 0x7f;
    std::size_t h = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (std::uint64_t(p[2]) << 8) | p[3];
      h = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      h = 10;
    }
    if (p[1] & 0x80) h += 4;  // servers do not mask; tolerate it anyway (unmasked read)
    if (avail < h + len) break;
    std::string_view payload(k.in.data() + k.in_off + h, static_cast<std::size_t>(len));
    k.in_off += h + static_cast<std::size_t>(len);
    if (opcode == 0x1) {
      on_eio(c, payload);
    } else if (opcode == 0x9) {  // ping -> pong
      // Control frames carry at most 125 bytes: one length byte, zero mask.
      std::string pong = "\x8a";
      pong += static_cast<char>(0x80 | std::min<std::size_t>(payload.size(), 125));
      pong.append(4, '\0');
      pong.append(payload.substr(0, 125));
      queue(k, pong);
    } else if (opcode == 0x8) {
      return fail(c, "close frame from the server");
    }
    if (k.fd < 0) return;
  }
  if (k.in_off == k.in.size()) {
    k.in.clear();
    k.in_off = 0;
  } else if (k.in_off > 65536) {
    k.in.erase(0, k.in_off);
    k.in_off = 0;
  }
}

std::size_t header_value(std::string_view head, std::string_view name, std::string_view& out) {
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    if (head.size() - pos < name.size() + 1) return 0;
    bool match = true;
    for (std::size_t i = 0; i < name.size() && match; ++i)
      match = std::tolower(static_cast<unsigned char>(head[pos + i])) == name[i];
    if (!match || head[pos + name.size()] != ':') continue;
    std::size_t v = pos + name.size() + 1;
    while (v < head.size() && head[v] == ' ') ++v;
    std::size_t e = head.find("\r\n", v);
    out = head.substr(v, e == std::string_view::npos ? head.size() - v : e - v);
    return 1;
  }
  return 0;
}

void Engine::parse_http(Conn& k) {
  Client& c = *k.client;
  for (;;) {
    std::string_view in(k.in.data() + k.in_off, k.in.size() - k.in_off);
    std::size_t end = in.find("\r\n\r\n");
    if (end == std::string_view::npos) return;
    std::string_view head = in.substr(0, end);
    int status = 0;
    if (head.size() > 12) std::from_chars(head.data() + 9, head.data() + 12, status);
    if (k.role == Role::Ws) {
      if (status != 101)
        return fail(c, "websocket upgrade refused: " + std::string(head.substr(0, 40)));
      k.in_off += end + 4;
      k.state = ConnState::Open;
      if (c.upgrade) ws_send(k, '2', "probe");
      parse_ws(k);
      return;
    }
    std::string_view cl;
    std::size_t length = 0;
    if (header_value(head, "content-length", cl))
      std::from_chars(cl.data(), cl.data() + cl.size(), length);
    else if (std::string_view te; header_value(head, "transfer-encoding", te))
      return fail(c, "chunked responses are not supported");
    if (in.size() < end + 4 + length) return;
    std::string body(in.substr(end + 4, length));
    k.in_off += end + 4 + length;
    if (k.in_off == k.in.size()) {
      k.in.clear();
      k.in_off = 0;
    }
    k.busy = false;
    if (k.role == Role::Api) {
      if (scenario) scenario->on_http(c, status, body);
      if (k.fd < 0) return;
      continue;
    }
    if (status != 200) return fail(c, "HTTP " + std::to_string(status) + ": " + body.substr(0, 80));
    on_http_body(k, body);
    if (k.fd < 0) return;
  }
}

void Engine::on_http_body(Conn& k, std::string_view body) {
  Client& c = *k.client;
  if (k.role == Role::PollPost) {
    flush_post(c);
    maybe_upgrade(c);
    return;
  }
  // A GET: packets separated by \x1e.
  while (!body.empty()) {
    std::size_t sep = body.find('\x1e');
    std::string_view packet = body.substr(0, sep);
    on_eio(c, packet);
    if (c.phase == Phase::Failed || c.phase == Phase::Closed) return;
    if (sep == std::string_view::npos) break;
    body.remove_prefix(sep + 1);
  }
  // After "3probe" the client stops polling (engine.io-client's pause).
  if (c.probed)
    maybe_upgrade(c);
  else
    send_get(c);
}

// engine.io-client's pause: once the probe succeeded and neither the GET nor
// the POST is in flight, "5" goes over the websocket, which carries all from
// then on; the polling connections are closed.
void Engine::maybe_upgrade(Client& c) {
  if (!c.probed || c.upgraded || c.get.busy || c.post.busy || !c.post_queue.empty()) return;
  c.upgraded = true;
  c.polling = false;
  ws_send(c.ws, '5', "");
  close_conn(c.get);
  close_conn(c.post);
  maybe_connected(c);
}

void Engine::maybe_connected(Client& c) {
  if (c.phase != Phase::Connecting || !c.sio_open || (c.upgrade && !c.upgraded)) return;
  c.phase = Phase::Connected;
  c.connected = now_ns();
  if (scenario) scenario->on_connected(c);
}

void Engine::send_get(Client& c) {
  if (c.get.busy || c.sid.empty() || c.get.fd < 0) return;
  c.get.busy = true;
  queue(c.get, "GET " + o_.path + "?EIO=4&transport=polling&sid=" + c.sid +
                   " HTTP/1.1\r\nHost: " + host_header_ + "\r\n\r\n");
}

void Engine::flush_post(Client& c) {
  if (c.post.busy || c.post_queue.empty() || c.post.fd < 0) return;
  c.post.busy = true;
  std::string req = "POST " + o_.path + "?EIO=4&transport=polling&sid=" + c.sid +
                    " HTTP/1.1\r\nHost: " + host_header_ +
                    "\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: " +
                    std::to_string(c.post_queue.size()) + "\r\n\r\n";
  req += c.post_queue;
  c.post_queue.clear();
  queue(c.post, req);
}

void Engine::on_eio(Client& c, std::string_view packet) {
  if (packet.empty()) return;
  switch (packet[0]) {
    case '0': {  // open
      if (c.polling) {
        auto p = packet.find("\"sid\":\"");
        if (p == std::string_view::npos) return fail(c, "open packet without sid");
        auto e = packet.find('"', p + 7);
        c.sid = std::string(packet.substr(p + 7, e - p - 7));
        start_conn(c, c.post, Role::PollPost);
        if (c.upgrade) start_conn(c, c.ws, Role::Ws);
      }
      send_message(c, "0" + c.connect_payload);
      return;
    }
    case '2':  // ping
      if (c.polling) {
        if (!c.post_queue.empty()) c.post_queue += '\x1e';
        c.post_queue += '3';
        flush_post(c);
      } else {
        ws_send(c.ws, '3', "");
      }
      return;
    case '4':
      on_sio(c, packet.substr(1));
      return;
    case '3':
      if (c.upgrade && packet == "3probe" && !c.probed) {
        c.probed = true;
        maybe_upgrade(c);
      }
      return;
    case '1':
      return fail(c, "engine.io close");
    default:
      return;
  }
}

void Engine::on_sio(Client& c, std::string_view p) {
  if (p.empty()) return;
  char type = p[0];
  p.remove_prefix(1);
  if (type == '0') {
    c.sio_open = true;
    maybe_connected(c);
  } else if (type == '3') {
    std::size_t i = 0;
    std::uint64_t id = 0;
    while (i < p.size() && p[i] >= '0' && p[i] <= '9')
      id = id * 10 + static_cast<unsigned>(p[i++] - '0');
    if (scenario) scenario->on_ack(c, id, p.substr(i));
  } else if (type == '2') {
    if (scenario) scenario->on_event(c, p);
  } else if (type == '4') {
    fail(c, "connect_error: " + std::string(p.substr(0, 80)));
  }
}

// --- scenarios ---------------------------------------------------------------------------------

// Opens clients W at a time and tracks how many made it.
class Connector : public Scenario {
 public:
  Connector(Engine& e, const Options& o) : e_(e), o_(o) {}

  // Opens clients [first, first+count) of `pool`, `window` in flight; returns
  // when all are connected or failed, or the timeout passed.
  bool connect_all(std::vector<std::unique_ptr<Client>>& pool, std::size_t first, std::size_t count,
                   bool polling) {
    std::size_t next = first, end = first + count;
    in_flight_ = 0;
    done_ = 0;
    Nanos deadline = now_ns() + static_cast<Nanos>(o_.timeout * 1e9);
    while (done_ < count && now_ns() < deadline) {
      while (next < end && in_flight_ < o_.window) {
        ++in_flight_;
        e_.open(*pool[next++], polling);
      }
      e_.poll_once(10);
    }
    return done_ == count;
  }
  void on_connected(Client& c) override {
    --in_flight_;
    ++done_;
    setup_.add(now_ns() - c.started);
  }
  void on_failed(Client&) override {
    --in_flight_;
    ++done_;
  }
  Samples setup_;

 protected:
  Engine& e_;
  const Options& o_;
  int in_flight_ = 0;
  std::size_t done_ = 0;
};

std::string make_pool(std::vector<std::unique_ptr<Client>>& pool, std::size_t n) {
  for (std::size_t i = pool.size(); i < n; ++i) {
    pool.push_back(std::make_unique<Client>());
    pool.back()->id = static_cast<int>(i);
  }
  return {};
}

std::size_t count_connected(const std::vector<std::unique_ptr<Client>>& pool) {
  return static_cast<std::size_t>(std::count_if(
      pool.begin(), pool.end(), [](const auto& c) { return c->phase == Phase::Connected; }));
}

// message-with-ack, back-to-back or paced.
class Echo : public Connector {
 public:
  Echo(Engine& e, const Options& o) : Connector(e, o) {
    std::string body(static_cast<std::size_t>(std::max(o.payload, 1)), 'x');
    args_ = "[\"message-with-ack\",\"" + body + "\"]";
  }

  // Runs warm-up then the measured phase over clients [first, first+C).
  void run(std::vector<std::unique_ptr<Client>>& pool, std::size_t first, Out& out,
           const char* prefix) {
    clients_.clear();
    for (std::size_t i = first; i < pool.size(); ++i)
      if (pool[i]->phase == Phase::Connected) clients_.push_back(pool[i].get());
    out.num((std::string(prefix) + "clients").c_str(), static_cast<double>(clients_.size()));
    if (clients_.empty()) return;
    echoing_ = true;
    phase(o_.warmup, nullptr);
    hook(o_.before);
    Window w;
    acks_ = 0;
    lat_ = Samples{};
    w.start(o_.server_pids);
    phase(o_.duration, &lat_);
    w.stop();
    hook(o_.after);
    echoing_ = false;
    // Let outstanding acks come back so the next phase starts clean.
    Nanos drain = now_ns() + 2'000'000'000;
    while (now_ns() < drain && outstanding() > 0) e_.poll_once(5);
    out.window(prefix, w, static_cast<double>(acks_));
    out.latency(prefix, lat_);
    out.num((std::string(prefix) + "offered_per_s").c_str(), o_.rate);
  }

  void on_ack(Client& c, std::uint64_t, std::string_view) override {
    if (c.sent.empty()) return;
    Nanos t = now_ns();
    if (measuring_) {
      lat_.add(t - c.sent.front());
      ++acks_;
    }
    c.sent.pop_front();
    if (echoing_ && o_.rate <= 0) send(c, t);
  }

 private:
  std::size_t outstanding() const {
    std::size_t n = 0;
    for (Client* c : clients_) n += c->sent.size();
    return n;
  }
  void send(Client& c, Nanos when) {
    c.sent.push_back(when);
    std::string msg = "2" + std::to_string(c.next_ack++) + args_;
    e_.send_message(c, msg);
  }
  // Runs for `secs`; samples go to `lat` when given.
  void phase(double secs, Samples* lat) {
    measuring_ = lat != nullptr;
    Nanos t0 = now_ns(), end = t0 + static_cast<Nanos>(secs * 1e9);
    if (o_.rate <= 0) {
      for (Client* c : clients_)
        if (c->sent.empty()) send(*c, t0);
      while (now_ns() < end) e_.poll_once(5);
    } else {
      // Paced: message k of the phase is due at t0 + k/rate; latency counts
      // from the due time (no coordinated omission).
      double interval = 1e9 / o_.rate;
      std::uint64_t k = 0;
      std::size_t rr = 0;
      for (;;) {
        Nanos t = now_ns();
        if (t >= end) break;
        while (t0 + static_cast<Nanos>(static_cast<double>(k) * interval) <= t) {
          Client* c = clients_[rr++ % clients_.size()];
          if (c->phase == Phase::Connected)
            send(*c, t0 + static_cast<Nanos>(static_cast<double>(k) * interval));
          ++k;
        }
        Nanos due = t0 + static_cast<Nanos>(static_cast<double>(k) * interval);
        e_.poll_for(due - now_ns());
      }
    }
    measuring_ = false;
  }

  std::string args_;
  std::vector<Client*> clients_;
  bool echoing_ = false;
  bool measuring_ = false;
  std::uint64_t acks_ = 0;
  Samples lat_;
};

// Broadcasts: one client sends `broadcast` {event: "tick"} "<seq>:<t_ns>", all receive `tick`.
class Fanout : public Connector {
 public:
  using Connector::Connector;

  void on_event(Client&, std::string_view a) override {
    constexpr std::string_view kTick = "[\"tick\",\"";
    if (a.substr(0, kTick.size()) != kTick) return;
    a.remove_prefix(kTick.size());
    std::uint64_t seq = 0;
    Nanos sent = 0;
    auto r = std::from_chars(a.data(), a.data() + a.size(), seq);
    if (r.ec != std::errc() || *r.ptr != ':') return;
    std::from_chars(r.ptr + 1, a.data() + a.size(), sent);
    Nanos t = now_ns();
    ++received_;
    if (seq < last_.size()) {
      last_[seq] = std::max(last_[seq], t);
      ++count_[seq];
    }
    if (measuring_) lat_.add(t - sent);
  }

  void emit(Client& from, std::uint64_t seq, Nanos t) {
    if (seq >= last_.size())
      last_.resize(seq + 1, 0), count_.resize(seq + 1, 0), sent_.resize(seq + 1, 0);
    sent_[seq] = t;
    e_.send_message(from, "2[\"broadcast\",{\"event\":\"tick\"},\"" + std::to_string(seq) + ":" +
                              std::to_string(t) + "\"]");
  }

  // Waits until `expected` deliveries arrived or the timeout passed.
  void wait_for(std::uint64_t expected, double timeout_s) {
    Nanos deadline = now_ns() + static_cast<Nanos>(timeout_s * 1e9);
    while (received_ < expected && now_ns() < deadline) e_.poll_once(5);
  }

  std::uint64_t received_ = 0;
  bool measuring_ = false;
  Samples lat_;
  std::vector<Nanos> last_, sent_;
  std::vector<std::uint64_t> count_;
};

// --- the Daheim workload ---------------------------------------------------------------------

// A small deterministic random source (xorshift64*), so runs are repeatable.
class Random {
 public:
  explicit Random(unsigned seed) : s_(0x9e3779b97f4a7c15ull ^ seed) {}
  double uniform() {
    s_ ^= s_ >> 12, s_ ^= s_ << 25, s_ ^= s_ >> 27;
    return static_cast<double>((s_ * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
  }
  std::size_t below(std::size_t n) {
    return std::min(n - 1, static_cast<std::size_t>(uniform() * static_cast<double>(n)));
  }
  // Seconds to the next event of a Poisson stream of `per_s` events per second.
  double exponential(double per_s) { return -std::log(1.0 - uniform()) / per_s; }

 private:
  std::uint64_t s_;
};

// One Daheim user: a teacher or a student with one or two tabs (clients).
struct User {
  int id = 0;
  bool teacher = false;
  bool polling = false;
  std::vector<Client*> tabs;
  std::size_t connected_tabs = 0;
  bool online = false;   // every tab joined the namespace: pushes and calls may target it
  bool leaving = false;  // leaves once its pushes and calls are answered
  bool ready = false;
  int pending_pushes = 0;
  int pending_calls = 0;
};

// A push sent through the ingress: to whom, when it was due, which tabs got it.
struct PushRecord {
  int user = 0;
  Nanos due = 0;
  std::uint8_t expected = 0;
  std::uint8_t got_mask = 0;
  std::uint8_t got = 0;
  bool posted = false;    // the request went to an ingress connection
  bool answered = false;  // the ingress answered 202 (in a cluster it counts the user's
                          // sockets after the event went out: the user stays until then)
  bool settled = false;   // every expected tab has it and the ingress answered, or it refused
};

// Pushes at the end of a run: still waiting in the generator for an ingress
// connection (a generator bound: raise --api-conns), and posted but not
// delivered to every tab or not answered (missed).
struct PushTally {
  std::uint64_t unsent = 0, missed = 0, deliveries_missed = 0;
};

// What the generator counted; every "sent" has its "arrived".
struct DaheimCounts {
  std::uint64_t calls_sent = 0, acks = 0, ack_errors = 0, unexpected_acks = 0, calls_lost = 0;
  std::uint64_t ready_toggles = 0, list_calls = 0;
  std::uint64_t pushes_sent = 0, pushes_accepted = 0, push_http_errors = 0;
  std::uint64_t push_deliveries_expected = 0, push_deliveries = 0, push_duplicates = 0;
  std::uint64_t push_misdelivered = 0, push_dropped_on_purpose = 0;
  // The ingress counted more sockets than the user has tabs (a departed polling tab's
  // session lives until its ping timeout), or fewer.
  std::uint64_t push_sockets_more = 0, push_sockets_fewer = 0;
  std::uint64_t push_arrivals = 0;
  std::uint64_t leaves = 0, joins = 0, lost = 0, skipped_no_target = 0;
  std::uint64_t ev_online = 0, ev_ready_users = 0, ev_user_ready = 0, ev_user_not_ready = 0;
  std::uint64_t ev_other = 0;
  std::string last_bad;
};

class Daheim : public Scenario {
 public:
  Daheim(Engine& e, const Options& o) : e_(e), o_(o), d_(o.d), rng_(o.d.seed) {}

  // Makes the users, their tabs and tokens, and the ingress connections.
  void build(std::vector<std::unique_ptr<Client>>& pool);
  // Connects every tab, `window` at a time; false on timeout.
  bool connect_all();
  // Makes --ready-share of the students ready (counted as toggles, not
  // measured) and waits for the answers; false on timeout.
  bool ready_start();
  // Waits until the broadcasts caused by the connections stopped arriving
  // (no `online` for `quiet_s`), at most `max_s`: the measured phase must
  // not carry the connect phase's backlog.
  void settle(double quiet_s, double max_s);
  // The measured phase and the drain; writes the report, returns the failed
  // service levels (empty: all held).
  std::string run(Out& out);

  void on_connected(Client& c) override;
  void on_failed(Client& c) override;
  void on_lost(Client& c) override;
  void on_ack(Client& c, std::uint64_t id, std::string_view args) override;
  void on_event(Client& c, std::string_view array) override;
  void on_http(Client& c, int status, std::string_view body) override;

  std::size_t tabs() const { return tabs_; }
  std::size_t ready_users() const {
    return static_cast<std::size_t>(
        std::count_if(users_.begin(), users_.end(), [](const User& u) { return u.ready; }));
  }

 private:
  enum class Kind { Push, Call, Ready, Churn };
  struct Stream {
    Kind kind;
    double per_s;
    Nanos next;
  };

  void fire(Kind k, Nanos due);
  User* pick(bool students_only);
  void call(User& u, std::string_view event_and_args, Nanos due);
  void send_push(User& u, Nanos due);
  void pump_api();
  void on_push(Client& c, std::string_view rest);
  void settle_push(PushRecord& r);
  void maybe_leave(User& u);
  void process_leaves();
  void join(User& u);
  bool quiet() const;
  void report(Out& out, const Window& w);
  PushTally tally() const;
  std::string failed_levels(double cpu_share);

  Engine& e_;
  const Options& o_;
  const Options::Daheim& d_;
  Random rng_;
  std::vector<User> users_;
  std::vector<Client*> api_;
  std::vector<int> api_inflight_;  // push per ingress connection, -1: idle
  std::deque<int> api_queue_;      // pushes waiting for an idle connection
  std::vector<std::string> push_body_;
  std::vector<PushRecord> pushes_;
  std::vector<int> to_leave_;
  std::size_t tabs_ = 0;
  int joining_ = 0;  // tabs opened, not yet joined or failed
  bool measuring_ = false;
  DaheimCounts n_;
  Samples ack_lat_, push_lat_, setup_lat_;
};

void Daheim::build(std::vector<std::unique_ptr<Client>>& pool) {
  users_.resize(static_cast<std::size_t>(std::max(d_.users, 0)));
  for (std::size_t i = 0; i < users_.size(); ++i) {
    User& u = users_[i];
    u.id = static_cast<int>(i);
    u.teacher = rng_.uniform() < d_.teacher_share;
    u.polling = rng_.uniform() < d_.polling_share;
    int tabs = rng_.uniform() < d_.two_tab_share ? 2 : 1;
    std::string token = loadgen::hs256_token(d_.secret, "u" + std::to_string(i), d_.role_claim,
                                             u.teacher ? "teacher" : "student", d_.audience, 3600);
    for (int t = 0; t < tabs; ++t) {
      pool.push_back(std::make_unique<Client>());
      Client& c = *pool.back();
      c.id = static_cast<int>(pool.size() - 1);
      c.user = u.id;
      c.tab = t;
      c.connect_payload = "{\"token\":\"" + token + "\"}";
      u.tabs.push_back(&c);
      ++tabs_;
    }
  }
  for (int i = 0; i < d_.api_conns; ++i) {
    pool.push_back(std::make_unique<Client>());
    api_.push_back(pool.back().get());
    api_inflight_.push_back(-1);
    e_.open_api(*api_.back());
  }
}

bool Daheim::connect_all() {
  Nanos deadline = now_ns() + static_cast<Nanos>(o_.timeout * 1e9);
  std::size_t next = 0;
  std::vector<std::pair<User*, Client*>> order;
  for (User& u : users_)
    for (Client* c : u.tabs) order.emplace_back(&u, c);
  while ((next < order.size() || joining_ > 0) && now_ns() < deadline) {
    while (next < order.size() && joining_ < o_.window) {
      ++joining_;
      e_.open(*order[next].second, order[next].first->polling);
      ++next;
    }
    e_.poll_once(10);
  }
  return next == order.size() && joining_ == 0;
}

bool Daheim::ready_start() {
  double share = d_.ready_share;
  if (share < 0) {
    double both = 2 * d_.ready_per_min + d_.churn_per_min;
    share = both > 0 ? d_.ready_per_min / both : 0;
  }
  for (User& u : users_) {
    if (u.teacher || !u.online || rng_.uniform() >= share) continue;
    ++n_.ready_toggles;
    u.ready = true;
    call(u, R"("ready",{"ready":true,"topic":"Reisen"})", now_ns());
  }
  Nanos deadline = now_ns() + static_cast<Nanos>(o_.timeout * 1e9);
  while (now_ns() < deadline && !quiet()) e_.poll_once(10);
  return quiet();
}

void Daheim::settle(double quiet_s, double max_s) {
  Nanos end = now_ns() + static_cast<Nanos>(max_s * 1e9);
  Nanos quiet = static_cast<Nanos>(quiet_s * 1e9);
  std::uint64_t seen = n_.ev_online + n_.ev_ready_users;
  Nanos last = now_ns();
  while (now_ns() < end && now_ns() - last < quiet) {
    e_.poll_once(20);
    if (std::uint64_t n = n_.ev_online + n_.ev_ready_users; n != seen) seen = n, last = now_ns();
  }
}

void Daheim::on_connected(Client& c) {
  if (c.user < 0) return;
  User& u = users_[static_cast<std::size_t>(c.user)];
  --joining_;
  ++n_.joins;
  setup_lat_.add(now_ns() - c.started);
  if (++u.connected_tabs == u.tabs.size()) u.online = true;
}

void Daheim::on_failed(Client& c) {
  if (c.user >= 0) --joining_;
}

void Daheim::on_lost(Client& c) {
  ++n_.lost;
  if (c.user < 0) return;  // an ingress connection: its push stays unsettled (missed)
  User& u = users_[static_cast<std::size_t>(c.user)];
  u.online = false;
  u.connected_tabs = u.connected_tabs > 0 ? u.connected_tabs - 1 : 0;
  n_.calls_lost += c.calls.size();
  u.pending_calls -= static_cast<int>(c.calls.size());
  c.calls.clear();
}

void Daheim::on_ack(Client& c, std::uint64_t id, std::string_view args) {
  auto it =
      std::find_if(c.calls.begin(), c.calls.end(), [&](const auto& p) { return p.first == id; });
  if (c.user < 0 || it == c.calls.end()) {
    ++n_.unexpected_acks;
    return;
  }
  if (measuring_) ack_lat_.add(now_ns() - it->second);
  c.calls.erase(it);
  ++n_.acks;
  // `$ready` answers {}, `$presence.list` {users, total, next}; an error is {"error": ...}.
  if (args != "[{}]" && args.substr(0, 10) != "[{\"users\":") {
    ++n_.ack_errors;
    n_.last_bad = "ack " + std::string(args.substr(0, 80));
  }
  User& u = users_[static_cast<std::size_t>(c.user)];
  --u.pending_calls;
  maybe_leave(u);
}

void Daheim::on_event(Client& c, std::string_view a) {
  auto name_end = a.find('"', 2);
  if (a.size() < 3 || a.substr(0, 2) != "[\"" || name_end == std::string_view::npos) {
    ++n_.ev_other;
    return;
  }
  std::string_view name = a.substr(2, name_end - 2);
  if (name == "push")
    on_push(c, a.substr(name_end + 1));
  else if (name == "online")
    ++n_.ev_online;
  else if (name == "readyUsers")
    ++n_.ev_ready_users;
  else if (name == "userIsReady")
    ++n_.ev_user_ready;
  else if (name == "userIsNotReady")
    ++n_.ev_user_not_ready;
  else
    ++n_.ev_other, n_.last_bad = "event " + std::string(a.substr(0, 80));
}

// `,{"seq":N}]` of a push event.
void Daheim::on_push(Client& c, std::string_view rest) {
  constexpr std::string_view kSeq = ",{\"seq\":";
  std::size_t seq = 0;
  if (rest.substr(0, kSeq.size()) != kSeq ||
      std::from_chars(rest.data() + kSeq.size(), rest.data() + rest.size(), seq).ec !=
          std::errc() ||
      seq >= pushes_.size()) {
    ++n_.ev_other;
    n_.last_bad = "push " + std::string(rest.substr(0, 80));
    return;
  }
  ++n_.push_arrivals;
  if (d_.drop_push_every > 0 && n_.push_arrivals % static_cast<unsigned>(d_.drop_push_every) == 0) {
    ++n_.push_dropped_on_purpose;
    return;
  }
  PushRecord& r = pushes_[seq];
  auto bit = static_cast<std::uint8_t>(1u << c.tab);
  if (r.user != c.user) {
    ++n_.push_misdelivered;
  } else if (r.got_mask & bit) {
    ++n_.push_duplicates;
  } else {
    r.got_mask |= bit;
    ++r.got;
    ++n_.push_deliveries;
    if (measuring_) push_lat_.add(now_ns() - r.due);
    if (r.got == r.expected && r.answered) settle_push(r);
  }
}

void Daheim::settle_push(PushRecord& r) {
  if (r.settled) return;
  r.settled = true;
  User& u = users_[static_cast<std::size_t>(r.user)];
  --u.pending_pushes;
  maybe_leave(u);
}

void Daheim::on_http(Client& c, int status, std::string_view body) {
  auto slot = static_cast<std::size_t>(std::find(api_.begin(), api_.end(), &c) - api_.begin());
  if (slot >= api_.size() || api_inflight_[slot] < 0) {
    ++n_.push_http_errors;
    n_.last_bad = "unexpected HTTP answer " + std::to_string(status);
    return;
  }
  PushRecord& r = pushes_[static_cast<std::size_t>(api_inflight_[slot])];
  api_inflight_[slot] = -1;
  constexpr std::string_view kSockets = "{\"sockets\":";
  int sockets = -1;
  if (body.substr(0, kSockets.size()) == kSockets)
    std::from_chars(body.data() + kSockets.size(), body.data() + body.size(), sockets);
  if (status == 202) {
    ++n_.pushes_accepted;
    if (sockets > r.expected) ++n_.push_sockets_more;
    if (sockets < r.expected) ++n_.push_sockets_fewer;
    r.answered = true;
    if (r.got == r.expected) settle_push(r);
  } else {
    ++n_.push_http_errors;
    n_.last_bad = "push answered " + std::to_string(status) + " " + std::string(body.substr(0, 80));
    n_.push_deliveries_expected -= r.expected - r.got;
    settle_push(r);
  }
  pump_api();
}

void Daheim::pump_api() {
  for (std::size_t i = 0; i < api_.size() && !api_queue_.empty(); ++i) {
    if (api_inflight_[i] >= 0 || !e_.api_idle(*api_[i])) continue;
    int seq = api_queue_.front();
    api_queue_.pop_front();
    api_inflight_[i] = seq;
    pushes_[static_cast<std::size_t>(seq)].posted = true;
    const std::string& body = push_body_[static_cast<std::size_t>(seq)];
    std::string req =
        "POST " + d_.push_path + " HTTP/1.1\r\nHost: " + e_.host_header() +
        "\r\nAuthorization: Bearer " + d_.push_secret +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    e_.api_request(*api_[i], req);
  }
}

void Daheim::send_push(User& u, Nanos due) {
  auto seq = static_cast<int>(pushes_.size());
  PushRecord r;
  r.user = u.id;
  r.due = due;
  r.expected = static_cast<std::uint8_t>(u.tabs.size());
  pushes_.push_back(r);
  push_body_.push_back("{\"to\":{\"user\":\"u" + std::to_string(u.id) +
                       "\"},\"event\":\"push\",\"data\":{\"seq\":" + std::to_string(seq) + "}}");
  ++u.pending_pushes;
  ++n_.pushes_sent;
  n_.push_deliveries_expected += r.expected;
  api_queue_.push_back(seq);
  pump_api();
}

void Daheim::call(User& u, std::string_view event_and_args, Nanos due) {
  Client& c = *u.tabs[rng_.below(u.tabs.size())];
  std::uint64_t id = c.next_ack++;
  c.calls.emplace_back(id, due);
  ++u.pending_calls;
  ++n_.calls_sent;
  std::string msg = "2" + std::to_string(id) + "[";
  msg += event_and_args;
  msg += "]";
  e_.send_message(c, msg);
}

User* Daheim::pick(bool students_only) {
  for (int attempt = 0; attempt < 16 && !users_.empty(); ++attempt) {
    User& u = users_[rng_.below(users_.size())];
    if (u.online && !u.leaving && !(students_only && u.teacher)) return &u;
  }
  ++n_.skipped_no_target;
  return nullptr;
}

void Daheim::fire(Kind k, Nanos due) {
  User* u = pick(k == Kind::Ready);
  if (!u) return;
  switch (k) {
    case Kind::Push:
      send_push(*u, due);
      break;
    case Kind::Call:
      ++n_.list_calls;
      call(*u, R"("presence.list",{"limit":20})", due);
      break;
    case Kind::Ready:
      ++n_.ready_toggles;
      u->ready = !u->ready;
      call(*u,
           u->ready ? R"("ready",{"ready":true,"topic":"Reisen"})" : R"("ready",{"ready":false})",
           due);
      break;
    case Kind::Churn:
      u->leaving = true;
      maybe_leave(*u);
      break;
  }
}

// A user leaves once nothing it waits for is outstanding (so a push or ack
// that went missing is never mistaken for one the user walked away from).
// The close happens outside the callbacks that found it due.
void Daheim::maybe_leave(User& u) {
  if (u.leaving && u.online && u.pending_pushes == 0 && u.pending_calls == 0) {
    u.online = false;
    to_leave_.push_back(u.id);
  }
}

void Daheim::process_leaves() {
  for (int id : to_leave_) {
    User& u = users_[static_cast<std::size_t>(id)];
    for (Client* c : u.tabs) e_.close_client(*c);
    ++n_.leaves;
    u.leaving = false;
    u.ready = false;  // a new visit starts not ready
    join(u);
  }
  to_leave_.clear();
}

// Comes back as a new visit: fresh connections with the same token.
void Daheim::join(User& u) {
  u.connected_tabs = 0;
  for (Client* c : u.tabs) {
    c->sid.clear();
    c->post_queue.clear();
    c->calls.clear();
    ++joining_;
    e_.open(*c, u.polling);
  }
}

bool Daheim::quiet() const {
  if (!api_queue_.empty() || joining_ > 0 || !to_leave_.empty()) return false;
  for (int s : api_inflight_)
    if (s >= 0) return false;
  for (const User& u : users_)
    if (u.online && (u.pending_pushes > 0 || u.pending_calls > 0)) return false;
  return true;
}

std::string Daheim::run(Out& out) {
  double n = static_cast<double>(users_.size()), students = 0;
  for (const User& u : users_) students += u.teacher ? 0 : 1;
  hook(o_.before);  // before the first event is due
  Nanos t0 = now_ns(), end = t0 + static_cast<Nanos>(o_.duration * 1e9);
  std::vector<Stream> streams = {{Kind::Push, d_.push_per_min * n / 60, 0},
                                 {Kind::Call, d_.calls_per_min * n / 60, 0},
                                 {Kind::Ready, d_.ready_per_min * students / 60, 0},
                                 {Kind::Churn, d_.churn_per_min * n / 60, 0}};
  std::erase_if(streams, [](const Stream& s) { return s.per_s <= 0; });
  for (Stream& s : streams) s.next = t0 + static_cast<Nanos>(rng_.exponential(s.per_s) * 1e9);
  Window w;
  measuring_ = true;
  w.start(o_.server_pids);
  for (Nanos t = now_ns(); t < end; t = now_ns()) {
    Nanos next = end;
    for (Stream& s : streams) {
      while (s.next <= t) {
        fire(s.kind, s.next);
        s.next += static_cast<Nanos>(rng_.exponential(s.per_s) * 1e9);
      }
      next = std::min(next, s.next);
    }
    process_leaves();
    e_.poll_for(std::min(next, t + 20'000'000) - now_ns());
    process_leaves();
  }
  w.stop();
  pid_t after = hook_start(o_.after);  // answers arriving meanwhile are read in time
  Nanos drain = now_ns() + static_cast<Nanos>(d_.drain * 1e9);
  while (now_ns() < drain && !quiet()) {
    e_.poll_once(5);
    process_leaves();
  }
  measuring_ = false;
  hook_wait(after, o_.after);
  report(out, w);
  return failed_levels(w.wall() > 0 ? w.server_cpu() / w.wall() / d_.server_cores : 0);
}

void Daheim::report(Out& out, const Window& w) {
  double teachers = 0, polling = 0, two_tabs = 0;
  for (const User& u : users_) {
    teachers += u.teacher;
    polling += u.polling ? static_cast<double>(u.tabs.size()) : 0;
    two_tabs += u.tabs.size() == 2;
  }
  out.num("users", static_cast<double>(users_.size()));
  out.num("tabs", static_cast<double>(tabs_));
  out.num("teachers", teachers);
  out.num("two_tab_users", two_tabs);
  out.num("polling_tabs", polling);
  out.window("run_", w, static_cast<double>(n_.acks + n_.push_deliveries));
  out.num("server_cpu_share", w.wall() > 0 ? w.server_cpu() / w.wall() / d_.server_cores : 0);
  out.num("client_cpu_share", w.wall() > 0 ? w.client_cpu() / w.wall() : 0);
  out.num("server_rss_run_kb", static_cast<double>(w.s1.rss_kb));
  PushTally t = tally();
  const std::pair<const char*, std::uint64_t> counts[] = {
      {"calls_sent", n_.calls_sent},
      {"list_calls", n_.list_calls},
      {"ready_toggles", n_.ready_toggles},
      {"acks", n_.acks},
      {"acks_missing", n_.calls_sent - n_.acks - n_.calls_lost},
      {"ack_errors", n_.ack_errors},
      {"unexpected_acks", n_.unexpected_acks},
      {"calls_lost", n_.calls_lost},
      {"pushes_sent", n_.pushes_sent},
      {"pushes_accepted", n_.pushes_accepted},
      {"push_http_errors", n_.push_http_errors},
      {"push_deliveries_expected", n_.push_deliveries_expected},
      {"push_deliveries", n_.push_deliveries},
      {"push_arrivals", n_.push_arrivals},
      {"push_dropped_on_purpose", n_.push_dropped_on_purpose},
      {"pushes_unsent", t.unsent},
      {"pushes_missed", t.missed},
      {"push_deliveries_missed", t.deliveries_missed},
      {"push_duplicates", n_.push_duplicates},
      {"push_misdelivered", n_.push_misdelivered},
      {"push_sockets_more", n_.push_sockets_more},
      {"push_sockets_fewer", n_.push_sockets_fewer},
      {"leaves", n_.leaves},
      {"joins", n_.joins},
      {"disconnects_unrequested", n_.lost},
      {"skipped_no_target", n_.skipped_no_target},
      {"events_online", n_.ev_online},
      {"events_ready_users", n_.ev_ready_users},
      {"events_user_is_ready", n_.ev_user_ready},
      {"events_user_is_not_ready", n_.ev_user_not_ready},
      {"events_other", n_.ev_other},
  };
  for (const auto& [k, v] : counts) out.num(k, static_cast<double>(v));
  out.latency("ack_", ack_lat_);
  out.latency("push_", push_lat_);
  out.latency("setup_", setup_lat_);
  if (!n_.last_bad.empty()) out.str("last_unexpected", n_.last_bad);
}

PushTally Daheim::tally() const {
  PushTally t;
  for (const PushRecord& r : pushes_) {
    if (r.settled) continue;
    if (!r.posted) {
      ++t.unsent;
    } else {
      ++t.missed;
      t.deliveries_missed += r.expected - r.got;
    }
  }
  return t;
}

std::string Daheim::failed_levels(double cpu_share) {
  PushTally t = tally();
  std::string failed;
  auto fail = [&](bool bad, const char* name) {
    if (!bad) return;
    if (!failed.empty()) failed += ',';
    failed += name;
  };
  fail(ack_lat_.pct_us(99) > d_.slo_ack_ms * 1e3, "ack_p99");
  fail(push_lat_.pct_us(99) > d_.slo_push_ms * 1e3, "push_p99");
  fail(t.missed > 0 || n_.push_http_errors > 0, "missed_push");
  fail(t.unsent > 0, "push_unsent");
  fail(n_.push_duplicates > 0 || n_.push_misdelivered > 0, "wrong_push");
  fail(n_.calls_sent != n_.acks || n_.ack_errors > 0 || n_.unexpected_acks > 0, "missed_ack");
  fail(n_.lost > 0 || e_.errors > 0, "disconnect");
  fail(cpu_share > d_.slo_cpu, "cpu");
  return failed;
}

int run(const Options& o) {
  Engine engine(o);
  Out out;
  out.str("scenario", o.scenario);
  std::vector<std::unique_ptr<Client>> pool;
  ProcCpu base = read_procs(o.server_pids);
  out.num("server_rss_start_kb", static_cast<double>(base.rss_kb));
  bool polling = o.transport == "polling" || o.transport == "upgrade";
  std::string failed;  // service levels the daheim scenario missed
  out.str("transport", o.transport);

  if (o.scenario == "echo") {
    Echo echo(engine, o);
    engine.scenario = &echo;
    make_pool(pool, static_cast<std::size_t>(o.clients));
    echo.connect_all(pool, 0, pool.size(), polling);
    echo.run(pool, 0, out, "");
  } else if (o.scenario == "idle") {
    Echo echo(engine, o);
    engine.scenario = &echo;
    make_pool(pool, static_cast<std::size_t>(o.conns));
    Window w;
    w.start(o.server_pids);
    echo.connect_all(pool, 0, pool.size(), false);
    w.stop();
    std::size_t n = count_connected(pool);
    out.num("conns", static_cast<double>(n));
    out.window("connect_", w, static_cast<double>(n));
    // Settle: let the allocator and lws finish with the set-up buffers.
    Nanos settle = now_ns() + 1'000'000'000;
    while (now_ns() < settle) engine.poll_once(50);
    ProcCpu after = read_procs(o.server_pids);
    out.num("server_rss_connected_kb", static_cast<double>(after.rss_kb));
    // Without echo clients the hold is the measured phase (--before/--after).
    if (o.clients == 0) hook(o.before);
    Window h;
    h.start(o.server_pids);
    Nanos end = now_ns() + static_cast<Nanos>(o.hold * 1e9);
    while (now_ns() < end) engine.poll_once(100);
    h.stop();
    if (o.clients == 0) hook(o.after);
    out.num("hold_s", h.wall());
    out.num("hold_server_cpu_s", h.server_cpu());
    out.num("server_rss_held_kb", static_cast<double>(h.s1.rss_kb));
    std::size_t still = count_connected(pool);
    out.num("conns_after_hold", static_cast<double>(still));
    if (still > 0)
      out.num("rss_per_conn_bytes",
              static_cast<double>(h.s1.rss_kb - base.rss_kb) * 1024.0 / static_cast<double>(still));
    if (o.clients > 0) {
      make_pool(pool, pool.size() + static_cast<std::size_t>(o.clients));
      echo.connect_all(pool, static_cast<std::size_t>(o.conns), static_cast<std::size_t>(o.clients),
                       false);
      echo.run(pool, static_cast<std::size_t>(o.conns), out, "echo_");
    }
  } else if (o.scenario == "fanout") {
    Fanout fan(engine, o);
    engine.scenario = &fan;
    make_pool(pool, static_cast<std::size_t>(o.conns));
    fan.connect_all(pool, 0, pool.size(), polling);
    std::size_t n = count_connected(pool);
    out.num("conns", static_cast<double>(n));
    Client* from = nullptr;
    // The sender is on the first node (an even client).
    for (auto& c : pool)
      if (c->phase == Phase::Connected && c->id % 2 == 0) from = c.get();
    if (!from) {
      out.str("error", "no client connected: " + engine.last_error);
      std::puts(out.done().c_str());
      return 1;
    }
    Nanos settle = now_ns() + 500'000'000;
    while (now_ns() < settle) engine.poll_once(20);
    std::uint64_t seq = 0;
    if (o.burst > 0) {
      fan.received_ = 0;
      hook(o.before);
      Window w;
      w.start(o.server_pids);
      Nanos t = now_ns();
      for (int i = 0; i < o.burst; ++i) fan.emit(*from, seq++, t);
      std::uint64_t expected = static_cast<std::uint64_t>(o.burst) * n;
      fan.wait_for(expected, o.timeout);
      w.stop();
      hook(o.after);
      out.num("burst", o.burst);
      out.num("burst_received", static_cast<double>(fan.received_));
      out.window("burst_", w, static_cast<double>(fan.received_));
    }
    if (o.rate > 0) {
      Nanos settle2 = now_ns() + 500'000'000;
      while (now_ns() < settle2) engine.poll_once(20);
      fan.received_ = 0;
      std::uint64_t first = seq;
      fan.measuring_ = true;
      Window w;
      w.start(o.server_pids);
      Nanos t0 = now_ns(), end = t0 + static_cast<Nanos>(o.duration * 1e9);
      double interval = 1e9 / o.rate;
      std::uint64_t k = 0;
      for (;;) {
        Nanos t = now_ns();
        if (t >= end) break;
        Nanos due = t0 + static_cast<Nanos>(static_cast<double>(k) * interval);
        if (due <= t) {
          fan.emit(*from, seq++, t);
          ++k;
          continue;
        }
        engine.poll_for(due - t);
      }
      std::uint64_t expected = k * n;
      fan.wait_for(expected, 10);
      w.stop();
      fan.measuring_ = false;
      // Per message: time from the send until the last client had it.
      Samples complete;
      std::uint64_t incomplete = 0;
      for (std::uint64_t s = first; s < seq; ++s) {
        if (fan.count_[s] < n) ++incomplete;
        if (fan.last_[s] > 0) complete.add(fan.last_[s] - fan.sent_[s]);
      }
      out.num("paced_rate", o.rate);
      out.num("paced_messages", static_cast<double>(k));
      out.num("paced_received", static_cast<double>(fan.received_));
      out.num("paced_expected", static_cast<double>(expected));
      out.num("paced_incomplete_messages", static_cast<double>(incomplete));
      out.window("paced_", w, static_cast<double>(fan.received_));
      out.latency("paced_delivery_", fan.lat_);
      out.latency("paced_all_received_", complete);
    }
  } else if (o.scenario == "storm") {
    Connector conn(engine, o);
    engine.scenario = &conn;
    make_pool(pool, static_cast<std::size_t>(o.conns));
    hook(o.before);
    Window w;
    w.start(o.server_pids);
    conn.connect_all(pool, 0, pool.size(), polling);
    w.stop();
    hook(o.after);
    std::size_t n = count_connected(pool);
    out.num("conns", static_cast<double>(n));
    out.num("window", o.window);
    out.window("connect_", w, static_cast<double>(n));
    out.latency("setup_", conn.setup_);
    Window c;
    c.start(o.server_pids);
    for (auto& cl : pool) engine.close_client(*cl);
    // Give the server time to see the closes.
    Nanos t = now_ns() + 1'000'000'000;
    while (now_ns() < t) usleep(20'000);
    c.stop();
    out.num("close_server_cpu_s", c.server_cpu());
  } else if (o.scenario == "daheim") {
    Daheim daheim(engine, o);
    engine.scenario = &daheim;
    daheim.build(pool);
    Window w;
    w.start(o.server_pids);
    bool all = daheim.connect_all();
    w.stop();
    out.num("connected_all", all ? 1 : 0);
    out.window("connect_", w, static_cast<double>(daheim.tabs()));
    Nanos settle = now_ns();
    all = daheim.ready_start() && all;
    out.num("ready_start", static_cast<double>(daheim.ready_users()));
    daheim.settle(0.5, o.timeout);
    out.num("settle_s", seconds(now_ns() - settle));
    ProcCpu connected = read_procs(o.server_pids);
    out.num("server_rss_connected_kb", static_cast<double>(connected.rss_kb));
    if (o.d.users > 0)
      out.num("rss_per_user_bytes", static_cast<double>(connected.rss_kb - base.rss_kb) * 1024.0 /
                                        static_cast<double>(o.d.users));
    failed = daheim.run(out);
    if (!all && failed.find("disconnect") == std::string::npos)
      failed += failed.empty() ? "disconnect" : ",disconnect";
    out.num("slo_ok", failed.empty() ? 1 : 0);
    out.str("slo_failed", failed);
  } else {
    usage(64);
  }
  out.num("errors", engine.errors);
  if (!engine.last_error.empty()) out.str("last_error", engine.last_error);
  // Always reported (0 included): the report's "failed" rows read them.
  out.num("errors_setting_up", static_cast<double>(engine.failed_setting_up.v.size()));
  out.num("errors_connected", static_cast<double>(engine.failed_connected.v.size()));
  if (!engine.failed_setting_up.v.empty())
    out.num("errors_setting_up_after_p50_s", engine.failed_setting_up.pct_us(50) / 1e6);
  if (!engine.failed_connected.v.empty()) {
    out.num("errors_connected_after_p50_s", engine.failed_connected.pct_us(50) / 1e6);
    out.num("errors_connected_after_min_s", engine.failed_connected.pct_us(0) / 1e6);
  }
  ProcCpu end = read_procs(o.server_pids);
  out.num("server_rss_end_kb", static_cast<double>(end.rss_kb));
  std::puts(out.done().c_str());
  return failed.empty() ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  return run(o);
}
