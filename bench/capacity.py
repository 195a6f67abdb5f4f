#!/usr/bin/env python3
"""Capacity search: the largest number of Daheim users daheim-live carries
with every service level held, in three deployments (--row):

    single   one process, one event loop (one core)
    workers  one host: `workers` processes (default: one per core) on one
             port (SO_REUSEPORT), a cluster over a redis-server
    nodes    two daheim-live nodes over one redis-server; the generator puts
             odd tabs and odd push connections on the second node

    ninja -C build capacity                   # all three rows (what the run_target does)
    python3 bench/capacity.py --server build/core/app/daheim-live \\
        --loadgen build/bench/daheim-loadgen --plugins-dir build/plugins --row workers

For each N the server (and for the cluster rows a redis-server on a free
loopback port in its own temp dir) starts afresh with the presence and push
plugins and JWT auth (the development secret), and the load generator runs
its `daheim` scenario against it: N users with the tutoring-site rates of its
defaults (`daheim-loadgen --help`), `--duration` seconds measured. A step
passes when the generator exits 0 (p99 ack and push latency, no missed push
or ack, no disconnect nobody asked for, server CPU below 80 % of
--server-cores, summed over the server's processes). N doubles from --start
until a step fails or the next N does not fit the file-descriptor limit of
this host; then --bisect steps narrow the gap. Around the measured phase the
generator runs this script's --snap hook: redis-server's CPU and memory and
its INFO stats and commandstats, so each cluster step reports Redis ops/s.

Prints one line per step and a Markdown table per row at the end, with the
load average at each step's start and end (the machine may be shared);
--json FILE keeps every step's full report. Anything after `--` goes to the
load generator (e.g. `-- --push-per-min 2`).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing cluster.py

DEV_SECRET = "daheim-live-development-secret-never-use-in-production"
DEV_PUSH_SECRET = "daheim-live-development-push-secret-never-in-production"
FDS_BESIDE_CONNECTIONS = 64  # what the server keeps below RLIMIT_NOFILE
TABS_PER_USER = 1.2  # room for second tabs (--two-tab-share 0.15) and churn
ROWS = ("single", "workers", "nodes")


def log(msg):
    print(f"capacity: {msg}", file=sys.stderr, flush=True)


def fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return hard if hard != resource.RLIM_INFINITY else 1 << 20


def raise_fd_limit():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def max_users():
    """Users whose tabs fit the fd limit of the server and of the generator."""
    return int((fd_limit() - FDS_BESIDE_CONNECTIONS - 16) / TABS_PER_USER)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def redis_info(port, section):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", section], capture_output=True,
                         text=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def snapshot(argv):
    """--snap FILE REDISPORT REDISPID: the generator's hook around the measured
    phase. Kept light: it runs while the clients are being served."""
    import cluster  # noqa: E402  (proc_cpu, commandstats)
    path, port, pid = argv
    t = time.monotonic()
    stats = redis_info(port, "stats")
    cmd = cluster.commandstats(subprocess.run(
        ["redis-cli", "-p", port, "INFO", "commandstats"], capture_output=True, text=True).stdout)
    mem = redis_info(port, "memory")
    with open(path, "w") as f:
        json.dump({"t": t, "cpu": cluster.proc_cpu(int(pid)),
                   "commands": int(stats.get("total_commands_processed", 0)), "cmd": cmd,
                   "used_memory": int(mem.get("used_memory", 0)),
                   "rss": int(mem.get("used_memory_rss", 0))}, f)


def write_config(tmp, name, args, extra):
    config = {
        "listen": "127.0.0.1:0",
        "log": {"level": args.log_level},
        "engineio": {"maxConnections": fd_limit() - FDS_BESIDE_CONNECTIONS},
        "auth": {"devSecret": DEV_SECRET, "audiences": ["realtime"]},
        "pluginDir": os.path.abspath(args.plugins_dir),
        "plugins": [
            {"path": "presence/presence.so", "config": json.loads(args.presence)},
            {"path": "push/push.so", "config": {"devBearerSecret": DEV_PUSH_SECRET}},
        ],
        **extra,
    }
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(config, f)
    return path


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


class Server:
    """One daheim-live process (with its workers, if any), ready once it
    logged the line `ready` matches; `port` is the one in that line."""

    def __init__(self, args, config, tmp, name, ready):
        self.errlog = open(os.path.join(tmp, name + ".log"), "w+")
        self.proc = subprocess.Popen([args.server, "--config", config], stdout=subprocess.DEVNULL,
                                     stderr=self.errlog, preexec_fn=raise_fd_limit)
        deadline = time.time() + 60
        while time.time() < deadline:
            self.errlog.seek(0)
            text = self.errlog.read()
            for line in text.splitlines():
                if ready in line and "listening on http://" in line:
                    rest = line.split("listening on http://")[1].split("/")[0]
                    self.port = int(rest.rsplit(":", 1)[1])
                    # The supervisor and its workers (none for one process).
                    self.pids = [self.proc.pid, *children(self.proc.pid)]
                    return
            if self.proc.poll() is not None:
                sys.exit(f"capacity: the server exited {self.proc.returncode}:\n{text}")
            time.sleep(0.05)
        self.stop()
        sys.exit(f"capacity: the server did not log `{ready}` within 60 s")

    def warnings(self):
        self.errlog.seek(0)
        return [l for l in self.errlog.read().splitlines()
                if l.startswith(("<3>", "<4>")) and "development" not in l]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Deployment:
    """What --row runs: one process, workers over Redis, or two nodes over
    Redis; started afresh for each step."""

    def __init__(self, args, tmp):
        self.redis, self.servers = None, []
        try:
            if args.row == "single":
                self.servers.append(Server(args, write_config(tmp, "config.json", args, {}), tmp,
                                           "server", "listening on"))
                return
            import cluster  # noqa: E402  (the Redis helper of the cluster benchmark)
            self.redis = cluster.Redis()
            clustered = {"cluster": {"redis": self.redis.url + "/0", "adapter": args.adapter}}
            if args.row == "workers":
                conf = write_config(tmp, "config.json", args, {**clustered, "workers": args.workers})
                self.servers.append(Server(args, conf, tmp, "server",
                                           f"workers: {args.workers} ready"))
            else:
                for i in (1, 2):
                    conf = write_config(tmp, f"node{i}.json", args, clustered)
                    self.servers.append(Server(args, conf, tmp, f"node{i}", "listening on"))
            # A node (and the supervisor) logs it is ready only once its route
            # key is in Redis: no wait for the routes here.
            self.redis_idle_share = self.idle_share(cluster)
        except BaseException:
            self.stop()
            raise

    def idle_share(self, cluster, seconds=2):
        """redis-server's CPU with the nodes attached and no users (serverCron,
        heartbeats), per second: taken off the measured phase's."""
        c0, t0 = cluster.proc_cpu(self.redis.proc.pid)[1], time.monotonic()
        time.sleep(seconds)
        return (cluster.proc_cpu(self.redis.proc.pid)[1] - c0) / (time.monotonic() - t0)

    def pids(self):
        return [p for s in self.servers for p in s.pids]

    def loadgen_args(self, tmp):
        argv = ["--port", str(self.servers[0].port),
                "--server-pid", ",".join(str(p) for p in self.pids())]
        if len(self.servers) > 1:
            argv += ["--port2", str(self.servers[1].port)]
        if self.redis:
            snap = [sys.executable, os.path.abspath(__file__), "--snap"]
            hook = lambda f: " ".join([*snap, os.path.join(tmp, f), str(self.redis.port),
                                       str(self.redis.proc.pid)])
            argv += ["--before", hook("redis-before.json"), "--after", hook("redis-after.json")]
        return argv

    def stop(self):
        for s in self.servers:
            s.stop()
        if self.redis:
            self.redis.stop()


# Commands only the Lua scripts (presence, the node registry) run: Redis
# counts them in commandstats and total_commands_processed beside the
# EVALSHA that ran them.
SCRIPT_ONLY = {"exists", "hdel", "hexists", "hget", "hgetall", "hincrby", "hlen", "hset", "incr",
               "incrby", "sadd", "scard", "sismember", "smembers", "srem", "time", "zadd", "zcard",
               "zrange", "zrangebyscore", "zrem"}


def redis_requests(r):
    """Commands the nodes sent (EVALSHA, PUBLISH, ...), per second."""
    sent = sum(n for c, n in r["redis_commands"].items() if c not in SCRIPT_ONLY)
    return sent / max(r["redis_span_s"], 1e-9)


def redis_figures(tmp):
    """Redis over the measured phase, from the two --snap files."""
    try:
        with open(os.path.join(tmp, "redis-before.json")) as f:
            b = json.load(f)
        with open(os.path.join(tmp, "redis-after.json")) as f:
            a = json.load(f)
    except (OSError, ValueError):
        return {}
    span = max(a["t"] - b["t"], 1e-9)
    cmd = {k: a["cmd"][k][0] - b["cmd"].get(k, (0, 0))[0] for k in a["cmd"]}
    # The snapshot's own INFO commands are not the nodes' work.
    info = cmd.pop("info", 0)
    cpu = a["cpu"][1] - b["cpu"][1]
    return {
        "redis_span_s": span,
        "redis_ops": a["commands"] - b["commands"] - info,
        "redis_ops_per_s": (a["commands"] - b["commands"] - info) / span,
        "redis_cpu_s": cpu, "redis_cpu_share": cpu / span,
        "redis_publish": cmd.get("publish", 0),
        "redis_us_per_publish": cpu * 1e6 / cmd["publish"] if cmd.get("publish") else 0,
        "redis_commands": {k: v for k, v in sorted(cmd.items(), key=lambda kv: -kv[1]) if v},
        # Time Redis spent executing each command (commandstats usec: no I/O).
        "redis_command_usec": {k: a["cmd"][k][1] - b["cmd"].get(k, (0, 0))[1] for k in a["cmd"]
                               if k != "info" and a["cmd"][k][1] > b["cmd"].get(k, (0, 0))[1]},
        "redis_used_memory": a["used_memory"], "redis_rss": a["rss"],
    }


def step(args, users):
    with tempfile.TemporaryDirectory(prefix="daheim-capacity-") as tmp:
        load0 = loadavg()
        dep = Deployment(args, tmp)
        try:
            cmd = [args.loadgen, "daheim", *dep.loadgen_args(tmp),
                   "--users", str(users), "--duration", str(args.duration),
                   "--server-cores", str(args.server_cores), "--timeout", "300",
                   *args.loadgen_args]
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 600)
            try:
                report = json.loads(run.stdout)
            except json.JSONDecodeError:
                sys.exit(f"capacity: no report from the generator (exit {run.returncode}):\n"
                         f"{run.stdout}\n{run.stderr}")
            report["exit"] = run.returncode
            report["row"] = args.row
            report["processes"] = len(dep.pids())
            report["server_warnings"] = [w for s in dep.servers for w in s.warnings()]
            report.update(redis_figures(tmp))
            if args.keep_logs and run.returncode != 0:
                keep = os.path.join(args.keep_logs, f"{args.row}-{users}-{int(time.time())}")
                os.makedirs(keep, exist_ok=True)
                for s in dep.servers:
                    shutil.copy(s.errlog.name, keep)
                report["server_logs"] = keep
            if dep.redis:
                report["redis_idle_share"] = dep.redis_idle_share
            report["loadavg_start"], report["loadavg_end"] = load0, loadavg()
            return report
        finally:
            dep.stop()


def cpu_per_user(r):
    """Server CPU seconds per user and second of the measured phase."""
    return r["run_server_cpu_s"] / max(r["run_wall_s"] * r["users"], 1e-9)


def wait_share(r, who="server"):
    """Share of the wall time the process was runnable but had no CPU
    (summed over the server's processes: may exceed 100 %)."""
    return r[f"run_{who}_wait_s"] / max(r["run_wall_s"], 1e-9)


def bound(r, cores):
    """What stopped a failed step (or would stop the next one)."""
    failed = r.get("slo_failed", "")
    if "cpu" in failed:
        return "server CPU"
    if r.get("redis_cpu_share", 0) > 0.8:
        return f"Redis: redis-server used {r['redis_cpu_share']:.0%} of a core"
    if r.get("client_cpu_share", 0) > 0.8:
        return "the generator's core"
    if "disconnect" in failed and (r.get("errors") or r.get("disconnects_unrequested")):
        return (f"connections: {r.get('errors', 0):.0f} errors, "
                f"{r.get('disconnects_unrequested', 0):.0f} disconnects nobody asked for "
                f"(last: {r.get('last_error', '?')})")
    if "push_unsent" in failed:
        return "the generator's push connections (pushes left unsent: raise --api-conns)"
    if failed and wait_share(r) > r["server_cpu_share"] * cores:
        return (f"CPU starvation: the server's processes waited for a core {wait_share(r):.0%} "
                f"of the time and ran {r['server_cpu_share'] * cores:.0%} of one core (other "
                f"processes held the cores; load average {r['loadavg_start'][0]:.0f} to "
                f"{r['loadavg_end'][0]:.0f})")
    if failed:
        return f"service levels ({failed}) with server CPU {r.get('server_cpu_share', 0):.0%}"
    return ""


def summary(r, cores):
    redis = (f", Redis {r['redis_ops_per_s']:.0f} ops/s ({redis_requests(r):.0f} sent by the "
             f"nodes) and {r['redis_cpu_share']:.1%} of a core"
             if "redis_ops_per_s" in r else "")
    return (f"{r['row']}: users {int(r['users'])} tabs {int(r['tabs'])}: "
            f"{'ok' if r['exit'] == 0 else 'FAILED ' + r.get('slo_failed', '')}; "
            f"server CPU {r['server_cpu_share']:.0%} of {cores:g} core(s), generator CPU "
            f"{r['client_cpu_share']:.0%}, ack p99 {r['ack_p99_us'] / 1e3:.1f} ms, push p99 "
            f"{r['push_p99_us'] / 1e3:.1f} ms, {r['rss_per_user_bytes'] / 1024:.1f} KiB/user, "
            f"{cpu_per_user(r) * 1e6:.1f} us CPU per user-second, server waited for a core "
            f"{wait_share(r):.0%} of the time{redis}; load {r['loadavg_start'][0]:.1f} -> "
            f"{r['loadavg_end'][0]:.1f}")


def table(steps, cores):
    cols = ["users", "tabs", "result", f"server CPU (share of {cores:g} core{'s' * (cores != 1)})",
            "server waiting for a core", "CPU µs per user-second", "generator CPU",
            "generator waiting for a core",
            "ack p99 ms", "push p99 ms", "RSS/user KiB", "server RSS MiB", "online events/s",
            "load average"]
    rows = ["| " + " | ".join(cols) + " |", "|" + " ---: |" * len(cols)]
    for r in steps:
        rows.append(
            f"| {int(r['users'])} | {int(r['tabs'])} | "
            f"{'held' if r['exit'] == 0 else 'failed: ' + r.get('slo_failed', '')} | "
            f"{r['server_cpu_share']:.1%} | {wait_share(r):.0%} | {cpu_per_user(r) * 1e6:.1f} | "
            f"{r['client_cpu_share']:.1%} | {wait_share(r, 'client'):.0%} | "
            f"{r['ack_p99_us'] / 1e3:.1f} | {r['push_p99_us'] / 1e3:.1f} | "
            f"{r['rss_per_user_bytes'] / 1024:.1f} | {r['server_rss_run_kb'] / 1024:.0f} | "
            f"{r['events_online'] / max(r['run_wall_s'], 1e-9):.0f} | "
            f"{r['loadavg_start'][0]:.0f} → {r['loadavg_end'][0]:.0f} |")
    return "\n".join(rows)


def redis_table(steps):
    """Redis over each cluster step's measured phase."""
    cols = ["users", "result", "Redis ops/s (all commands)", "per user", "commands sent by the "
            "nodes/s", "EVALSHA/s", "PUBLISH/s", "Redis CPU (share of a core)",
            "idle", "Redis CPU µs per user-second (idle taken off)",
            "Redis CPU µs per command sent (idle taken off)",
            "Redis CPU µs per PUBLISH (idle taken off)", "PUBLISH µs (commandstats)", "Redis used_memory MiB"]
    rows = ["| " + " | ".join(cols) + " |", "|" + " ---: |" * len(cols)]
    for r in steps:
        if "redis_ops_per_s" not in r:
            continue
        span, sent = r["redis_span_s"], redis_requests(r) * r["redis_span_s"]
        cmd, usec = r["redis_commands"], r.get("redis_command_usec", {})
        idle = r.get("redis_idle_share", 0)
        net = max(r["redis_cpu_s"] - idle * span, 0)
        rows.append(
            f"| {int(r['users'])} | {'held' if r['exit'] == 0 else 'failed'} | "
            f"{r['redis_ops_per_s']:,.0f} | {r['redis_ops_per_s'] / r['users']:.2f} | "
            f"{sent / span:,.0f} | {cmd.get('evalsha', 0) / span:.0f} | "
            f"{cmd.get('publish', 0) / span:.0f} | {r['redis_cpu_share']:.2%} | {idle:.2%} | "
            f"{net * 1e6 / (span * r['users']):.2f} | "
            f"{net * 1e6 / max(sent, 1):.0f} | {net * 1e6 / max(cmd.get('publish', 0), 1):.0f} | "
            f"{usec.get('publish', 0) / max(cmd.get('publish', 0), 1):.1f} | "
            f"{r['redis_used_memory'] / 2**20:.1f} |")
    return "\n".join(rows)


def run_step(args, users, steps):
    r = step(args, users)
    steps.append(r)
    log(summary(r, args.server_cores))
    return r


def ladder(args):
    steps = []
    for users in args.steps:
        run_step(args, min(users, max_users()), steps)
    passed = [int(r["users"]) for r in steps if r["exit"] == 0]
    failed = [int(r["users"]) for r in steps if r["exit"] != 0]
    return steps, max(passed, default=None), min(failed, default=None), max_users()


def search(args):
    steps, passed, failed = [], None, None
    cap = max_users()
    users = min(args.start, cap)
    while True:
        r = run_step(args, users, steps)
        if r["exit"] != 0:
            failed = users
            break
        passed = users
        if users >= min(cap, args.max):
            break
        users = min(users * 2, cap, args.max)
    # Below --start too: halve until a step holds.
    while passed is None and users > args.min:
        users = max(users // 2, args.min)
        if run_step(args, users, steps)["exit"] == 0:
            passed = users
        else:
            failed = users
    for _ in range(args.bisect if failed and passed else 0):
        users = (passed + failed) // 2
        if failed - passed <= max(passed // 20, 100):
            break
        if run_step(args, users, steps)["exit"] == 0:
            passed = users
        else:
            failed = users
    return steps, passed, failed, cap


def conclusion(args, steps, passed, failed, cap):
    if passed is None:
        return (f"No N held the service levels; the smallest tried ({steps[-1]['users']:.0f}) "
                f"stopped at {bound(steps[-1], args.server_cores)}.")
    if failed is None:
        last = steps[-1]
        why = (f"the most this host's fd limit lets one generator take ({cap})" if passed >= cap
               else "the largest N asked for (--max)")
        return (f"Held at {passed} users, {why}; server CPU there {last['server_cpu_share']:.0%} "
                f"of {args.server_cores:g} core(s), generator {last['client_cpu_share']:.0%}.")
    worst = next(r for r in steps if r["users"] == failed)
    return (f"Largest N held: {passed} users; {failed} failed "
            f"({bound(worst, args.server_cores)}).")


def run_row(args):
    log(f"row {args.row}: {args.server_cores:g} server core(s)"
        + (f", {args.workers} workers" if args.row == "workers" else ""))
    steps, passed, failed, cap = ladder(args) if args.steps else search(args)
    out = [f"### {args.row}", "", table(steps, args.server_cores), "",
           conclusion(args, steps, passed, failed, cap)]
    if args.row != "single":
        out += ["", redis_table(steps)]
    out += [f"server: {w}" for r in steps[-1:] for w in r.get("server_warnings", [])]
    return steps, "\n".join(out)


def main():
    argv = sys.argv[1:]
    if argv[:1] == ["--snap"]:
        return snapshot(argv[1:])
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--plugins-dir", required=True)
    ap.add_argument("--row", choices=(*ROWS, "all"), default="single")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                    help="--row workers: worker processes (default: one per core)")
    ap.add_argument("--adapter", default="pubsub", help="cluster rows: cluster.adapter")
    ap.add_argument("--start", type=int, default=1000)
    ap.add_argument("--min", type=int, default=250,
                    help="when --start fails, halve down to this N")
    ap.add_argument("--max", type=int, default=1_000_000)
    ap.add_argument("--duration", type=float, default=10, help="measured seconds per step")
    ap.add_argument("--bisect", type=int, default=3)
    ap.add_argument("--server-cores", type=float,
                    help="the CPU level's cores (default: 1 for single, else the cores here)")
    ap.add_argument("--presence", default="{}",
                    help='the presence plugin\'s config, e.g. \'{"onlineInterval": 1000}\'')
    ap.add_argument("--steps", type=lambda v: [int(x) for x in v.split(",")],
                    help="run these N (comma-separated) instead of searching")
    ap.add_argument("--json")
    ap.add_argument("--log-level", default="notice", help="the servers' log.level")
    ap.add_argument("--keep-logs", metavar="DIR",
                    help="copy the servers' logs of every step that failed to DIR")
    args = ap.parse_args(argv)
    args.loadgen_args = extra
    raise_fd_limit()
    log(f"fd limit {fd_limit()}: at most {max_users()} users per generator on this host")
    cores_asked = args.server_cores
    results, texts = {}, []
    for row in (ROWS if args.row == "all" else (args.row,)):
        args.row = row
        args.server_cores = cores_asked or (1 if row == "single" else os.cpu_count() or 2)
        results[row], text = run_row(args)
        texts.append(text)
        if args.json:  # after every row: a long search keeps what it has
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
    print("\n\n".join(texts))


if __name__ == "__main__":
    main()
