#!/usr/bin/env python3
"""Runs every benchmark scenario against daheim-live and the Node.js reference
server (bench/node, socket.io 4.8), back to back, and writes the results into
BENCHMARKS.md between the `bench:begin` / `bench:end` markers (the rest of the
file, the hand-written findings, is kept).

    ninja -C build bench                      # what the run_target does
    python3 bench/run.py --server build/core/app/daheim-live \\
        --loadgen build/bench/daheim-loadgen --node-dir bench/node --out BENCHMARKS.md

Each scenario gets a fresh server process (so RSS and CPU are its own), and
the load generator (one core) reads the server's CPU (all threads, user and
system) and RSS from /proc. `--quick` shrinks every scenario for a smoke run;
`--only NAME,...` runs some scenarios; `--json FILE` keeps the raw results.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (handler config, loadgen arguments, what it shows)
SCENARIOS = [
    ("echo-ws-1", "conformance", ["echo", "--clients", "1", "--duration", "5"],
     "1 websocket client, message-with-ack back-to-back"),
    ("echo-ws-50", "conformance", ["echo", "--clients", "50", "--duration", "5"],
     "50 websocket clients, back-to-back"),
    ("echo-ws-paced", "conformance",
     ["echo", "--clients", "50", "--rate", "10000", "--duration", "5"],
     "50 websocket clients, 10,000 acks/s offered in total (same load for both)"),
    ("echo-polling-50", "conformance",
     ["echo", "--transport", "polling", "--clients", "50", "--duration", "5"],
     "50 long-polling clients, back-to-back (each: one GET parked, one POST)"),
    ("fanout-10k", "e2e",
     ["fanout", "--conns", "10000", "--burst", "20", "--rate", "10", "--duration", "10"],
     "10,000 websocket clients; one sends `broadcast`: 20 at once, then 10/s for 10 s"),
    ("storm-10k", "conformance", ["storm", "--conns", "10000", "--window", "256"],
     "10,000 websocket clients connect (Socket.IO CONNECT acked), 256 in flight"),
    ("setup-default-2k", "conformance",
     ["storm", "--conns", "2000", "--window", "64", "--transport", "upgrade"],
     "2,000 clients with socket.io-client's default transports (polling handshake, CONNECT over "
     "polling, websocket probe and upgrade), 64 in flight"),
    ("storm-default-10k", "conformance",
     ["storm", "--conns", "10000", "--window", "256", "--transport", "upgrade", "--timeout",
      "300"],
     "10,000 clients with the default transports connect and upgrade, 256 in flight"),
    ("idle-19k", "conformance",
     ["idle", "--conns", "19000", "--hold", "20", "--clients", "8", "--duration", "5",
      "--timeout", "300"],
     "19,000 idle websocket clients held 20 s, then 8 echo clients beside them"),
    ("idle-5k", "conformance",
     ["idle", "--conns", "5000", "--hold", "5", "--clients", "8", "--duration", "5"],
     "5,000 idle websocket clients held 5 s, then 8 echo clients beside them"),
]

# Scenarios repeated on the other event loops of the C++ server.
LOOP_SCENARIOS = ["echo-ws-50", "echo-ws-paced", "idle-5k"]
# Scenarios run on the default loop only for the event-loop table.
LOOP_ONLY = ["idle-5k"]

QUICK = {
    "echo-ws-1": ["echo", "--clients", "1", "--duration", "1", "--warmup", "0.3"],
    "echo-ws-50": ["echo", "--clients", "50", "--duration", "1", "--warmup", "0.3"],
    "echo-ws-paced": ["echo", "--clients", "50", "--rate", "10000", "--duration", "1",
                      "--warmup", "0.3"],
    "echo-polling-50": ["echo", "--transport", "polling", "--clients", "50", "--duration", "1",
                        "--warmup", "0.3"],
    "fanout-10k": ["fanout", "--conns", "1000", "--burst", "5", "--rate", "10", "--duration", "2"],
    "storm-10k": ["storm", "--conns", "1000", "--window", "256"],
    "setup-default-2k": ["storm", "--conns", "300", "--window", "64", "--transport", "upgrade"],
    "storm-default-10k": ["storm", "--conns", "1000", "--window", "256", "--transport",
                          "upgrade"],
    "idle-19k": ["idle", "--conns", "2000", "--hold", "2", "--clients", "4", "--duration", "1"],
    "idle-5k": ["idle", "--conns", "1000", "--hold", "1", "--clients", "4", "--duration", "1"],
}


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class ServerProcess:
    """A server started with its output in a log file, ready once it logged
    `listening on http://HOST:PORT`."""

    def __init__(self, argv, label, env=None):
        self.label = label
        self.logf = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        self.port = None
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(self.logf.name, "r", errors="replace") as f:
                m = re.search(r"listening on http://[^:\s]+:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.tail()
        self.stop()
        raise RuntimeError(f"{label} did not start: {tail}")

    @property
    def pid(self):
        return self.proc.pid

    def tail(self):
        with open(self.logf.name, "r", errors="replace") as f:
            return f.read()[-2000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.unlink(self.logf.name)


PLUGIN_KEYS = None  # the config keys that load the conformance plugin, once probed


def probe_plugin(args):
    """Finds config keys that make this server build load the conformance plugin
    (checked with --check-config); None while the plugin host is not wired up."""
    if not os.path.exists(args.plugin):
        return None
    for keys in ({"plugins": [{"path": args.plugin}]}, {"plugins": [args.plugin]}):
        conf = cpp_config("conformance", "libuv", keys)
        try:
            ok = subprocess.run([args.server, "--check-config", conf], capture_output=True,
                                timeout=30).returncode == 0
        finally:
            os.unlink(conf)
        if ok:
            return keys
    return None


def cpp_config(handler, event_loop, plugin_keys=None, engineio=None):
    conf = {
        "log": {"level": "notice"},  # the readiness line is a notice
        "drainTime": 1000,
        "eventLoop": event_loop,
        "engineio": {"maxConnections": 19500, **(engineio or {})},
        # The load generator is one abusive client as far as the limits go.
        "socketio": {"namespaces": ["/"], "eventsPerSecond": 0},
        "testHandler": "socketio-conformance" if handler == "conformance" else "socketio-e2e",
    }
    if plugin_keys:
        del conf["testHandler"]
        conf.update(plugin_keys)
    f = tempfile.NamedTemporaryFile("w", prefix="bench-", suffix=".json", delete=False)
    json.dump(conf, f)
    f.close()
    return f.name


def test_binary(server):
    return os.path.join(os.path.dirname(server), "daheim-live-test")


def start_server(args, kind, handler, event_loop="libuv", wrapper=(), engineio=None):
    if kind == "node":
        return ServerProcess(["node", os.path.join(args.node_dir, "server.mjs"), "127.0.0.1", "0"],
                             "node")
    conf = cpp_config(handler, event_loop, PLUGIN_KEYS if handler == "plugin" else None, engineio)
    try:
        # The fixtures (testHandler) are in daheim-live-test only, beside the server.
        binary = args.server if handler == "plugin" else test_binary(args.server)
        return ServerProcess([*wrapper, binary, "--config", conf, "--listen", "127.0.0.1:0"],
                             f"daheim-live ({event_loop})")
    finally:
        # The server has read it once it is listening.
        os.unlink(conf)


def run_loadgen(args, server, lg_args, extra=()):
    argv = [args.loadgen, *lg_args, "--port", str(server.port), "--server-pid", str(server.pid),
            *extra]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"loadgen {' '.join(lg_args)} failed: {out.stderr[-1000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_floor(args, name):
    """The idle scenario against bench/lws_floor.c (lws with our settings,
    holding connections): the floor the idle-memory target is judged against."""
    _, lg = scenario_args(args, name)
    # Only the hold: the floor answers no events.
    lg = lg[:lg.index("--clients")] + lg[lg.index("--duration") + 2:] if "--clients" in lg else lg
    log(f"{name} on the lws floor")
    server = ServerProcess([args.floor, "0"], "lws floor")
    try:
        res = run_loadgen(args, server, lg)
    finally:
        server.stop()
    res["server"] = "floor"
    return res


def scenario_args(args, name):
    if name == "echo-plugin-50":
        return "plugin", (QUICK if args.quick else dict((n, lg) for n, _, lg, _ in SCENARIOS))[
            "echo-ws-50"]
    for n, handler, lg, _ in SCENARIOS:
        if n == name:
            return handler, (QUICK[name] if args.quick else lg)
    raise KeyError(name)


def run_one(args, kind, name, event_loop="libuv"):
    handler, lg = scenario_args(args, name)
    label = "node" if kind == "node" else f"cpp-{event_loop}"
    log(f"{name} on {label}")
    server = start_server(args, kind, handler, event_loop)
    try:
        res = run_loadgen(args, server, lg)
    finally:
        server.stop()
    res["server"] = label
    if res.get("errors"):
        log(f"  {res['errors']} client errors, last: {res.get('last_error')}")
    return res


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MiB"
    lws = subprocess.run(["pkg-config", "--modversion", "libwebsockets"], capture_output=True,
                         text=True).stdout.strip().rstrip("-")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    sio = "?"
    try:
        with open(os.path.join(args_global.node_dir, "node_modules/socket.io/package.json")) as f:
            sio = json.load(f)["version"]
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "cpu": model, "cores": os.cpu_count(), "mem": mem, "kernel": platform.release(),
        "lws": lws, "node": node, "socketio": sio,
        "commit": commit + (" + uncommitted changes" if dirty else ""),
        "nofile": subprocess.run(["sh", "-c", "ulimit -Hn"], capture_output=True,
                                 text=True).stdout.strip(),
    }


# --- callgrind ----------------------------------------------------------------------------

def callgrind(args, name, lg_extra, handler="conformance", engineio=None):
    """Runs the C++ server under callgrind, collecting only during the measured
    phase of `name`; returns (instructions, operations, top functions)."""
    if not shutil.which("valgrind"):
        return None
    out = tempfile.mktemp(prefix=f"callgrind-{name}-", suffix=".out")
    wrapper = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={out}"]
    log(f"callgrind: {name}")
    server = start_server(args, "cpp", handler, "libuv", wrapper, engineio)
    try:
        pid = server.pid
        hooks = ["--before", f"callgrind_control -i on {pid} >/dev/null",
                 "--after", f"callgrind_control -i off {pid} >/dev/null"]
        res = run_loadgen(args, server, [*lg_extra, *hooks])
    finally:
        server.stop()
    if not os.path.exists(out):
        return None
    ann = subprocess.run(["callgrind_annotate", "--inclusive=no", out], capture_output=True,
                         text=True).stdout
    os.unlink(out)
    total = None
    top = []
    for line in ann.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\(?.*PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
            continue
        m = re.match(r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S+):(.*?)(\s+\[.*\])?$", line)
        if m and total and len(top) < 15:
            fn = m.group(4).strip()
            if len(fn) > 90:
                fn = fn[:87] + "..."
            lib = os.path.basename(m.group(5).strip(" []")) if m.group(5) else ""
            top.append((int(m.group(1).replace(",", "")), float(m.group(2)), fn, lib))
    ops = res.get("ops") or res.get("connect_ops") or res.get("burst_ops") or 0
    if lg_extra[0] == "idle":
        ops = res.get("conns_after_hold") or 0
    return {"ir": total, "ops": ops, "top": top, "result": res}


# --- system calls -------------------------------------------------------------------------

SYSCALL_RUNS = [
    # (label, handler, loadgen arguments, key of the operation count)
    ("echo over websocket, 1 client (per ack)", "conformance",
     ["echo", "--clients", "1", "--warmup", "0.5", "--duration", "2"], "ops"),
    ("echo over polling, 4 clients (per ack)", "conformance",
     ["echo", "--transport", "polling", "--clients", "4", "--warmup", "0.5", "--duration", "2"],
     "ops"),
    ("fan-out burst, 1,000 clients x 5 (per delivery)", "e2e",
     ["fanout", "--conns", "1000", "--burst", "5"], "burst_ops"),
    ("connection set-up, 1,000 clients (per connection)", "conformance",
     ["storm", "--conns", "1000", "--window", "64"], "connect_ops"),
]


def syscalls(args, label, handler, lg_args, key, loop):
    """strace -c of the server during the measured phase: system calls per operation."""
    out = tempfile.mktemp(prefix="strace-", suffix=".txt")
    pidf = tempfile.mktemp(prefix="strace-", suffix=".pid")
    log(f"strace: {label} on {loop}")
    server = start_server(args, "cpp", handler, loop)
    try:
        hooks = ["--before", f"(strace -c -f -p {server.pid} -o {out} 2>/dev/null & echo $! > {pidf}; "
                             "sleep 1)",
                 "--after", f"kill -INT $(cat {pidf}); sleep 0.5"]
        res = run_loadgen(args, server, [*lg_args, *hooks])
    finally:
        server.stop()
    calls = {}
    try:
        with open(out) as f:
            for line in f:
                p = line.split()
                if len(p) >= 5 and p[0][0].isdigit() and p[-1] != "total":
                    calls[p[-1]] = int(p[3])
        os.unlink(out)
        os.unlink(pidf)
    except (OSError, ValueError):
        return None
    ops = res.get(key) or 0
    if not ops:
        return None
    return {"ops": ops, "per_op": {k: v / ops for k, v in calls.items()}}


def syscall_section(sc):
    if not sc:
        return "strace: not run (strace missing or --no-strace).\n"
    cols = ["epoll_wait", "epoll_ctl", "poll", "recvfrom", "sendto"]
    rows = []
    for (label, loop), d in sc.items():
        if not d:
            continue
        per = d["per_op"]
        other = sorted(((v, k) for k, v in per.items() if k not in cols and v >= 0.05), reverse=True)
        rows.append((label, loop, f"{sum(per.values()):.2f}",
                     *[f"{per.get(c, 0):.2f}" if per.get(c) else "" for c in cols],
                     ", ".join(f"{k} {v:.2g}" for v, k in other)))
    return table(rows, ["phase", "event loop", "all", *cols, "others"]) + "\n"


# --- report -------------------------------------------------------------------------------

def fmt(v, digits=3):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def ratio(node, cpp, higher_is_better=False):
    if not node or not cpp:
        return "–"
    r = (cpp / node) if higher_is_better else (node / cpp)
    return f"{r:.2g}×"


def table(rows, header):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# (label, key, unit, higher is better) per scenario
METRICS = {
    "echo-ws-1": [("acks/s", "ops_per_s", True), ("server CPU µs/ack", "server_us_per_op", False),
                  ("server CPU in kernel", "server_sys_share", None),
                  ("client CPU µs/ack", "client_us_per_op", False),
                  ("latency p50 µs", "p50_us", False), ("latency p99 µs", "p99_us", False),
                  ("latency p99.9 µs", "p999_us", False)],
    "fanout-10k": [("clients", "conns", None),
                   ("burst: deliveries", "burst_received", None),
                   ("burst: deliveries/s", "burst_ops_per_s", True),
                   ("burst: time until all received, s", "burst_wall_s", False),
                   ("burst: server CPU µs/delivery", "burst_server_us_per_op", False),
                   ("burst: server CPU in kernel", "burst_server_sys_share", None),
                   ("burst: client CPU µs/delivery", "burst_client_us_per_op", False),
                   ("paced: messages sent", "paced_messages", None),
                   ("paced: deliveries / expected", "paced_delivered", None),
                   ("paced: messages not received by every client", "paced_incomplete_messages",
                    False),
                   ("paced: server CPU µs/delivery", "paced_server_us_per_op", False),
                   ("paced: delivery latency p50 ms", "paced_delivery_p50_ms", False),
                   ("paced: delivery latency p99 ms", "paced_delivery_p99_ms", False),
                   ("paced: until all clients had a message, p50 ms",
                    "paced_all_received_p50_ms", False),
                   ("paced: until all clients had a message, max ms",
                    "paced_all_received_max_ms", False)],
    "storm-10k": [("connected", "conns", None), ("time until all connected, s", "connect_wall_s", False),
                  ("connections/s", "connect_ops_per_s", True),
                  ("server CPU µs/connection", "connect_server_us_per_op", False),
                  ("server CPU in kernel", "connect_server_sys_share", None),
                  ("client CPU µs/connection", "connect_client_us_per_op", False),
                  ("set-up latency p50 ms", "setup_p50_ms", False),
                  ("set-up latency p99 ms", "setup_p99_ms", False),
                  ("set-ups that failed", "errors_setting_up", None)],
    "idle-19k": [("connected", "conns", None), ("still connected after the hold", "conns_after_hold", None),
                 ("server RSS at start, MiB", "rss_start_mib", None),
                 ("server RSS after the hold, MiB", "rss_held_mib", None),
                 ("server RSS per connection, bytes", "rss_per_conn_bytes", False),
                 ("server CPU during the 20 s hold, s", "hold_server_cpu_s", False),
                 ("set-ups that failed", "errors_setting_up", None),
                 ("connected clients the server closed", "errors_connected", None),
                 ("... after being connected for (p50), s", "errors_connected_after_p50_s", None),
                 ("connect: server CPU µs/connection", "connect_server_us_per_op", False),
                 ("echo beside them: acks/s", "echo_ops_per_s", True),
                 ("echo beside them: server CPU µs/ack", "echo_server_us_per_op", False),
                 ("echo beside them: latency p99 µs", "echo_p99_us", False)],
}
for _n in ("echo-ws-50", "echo-ws-paced", "echo-polling-50"):
    METRICS[_n] = METRICS["echo-ws-1"]
METRICS["idle-5k"] = METRICS["idle-19k"]
METRICS["setup-default-2k"] = METRICS["storm-default-10k"] = METRICS["storm-10k"]


def derive(r):
    r = dict(r)
    for pre in ("", "echo_"):
        if f"{pre}ops" in r and not r[f"{pre}ops"]:
            for k in ("server_us_per_op", "client_us_per_op", "p50_us", "p99_us", "p999_us"):
                r.pop(pre + k, None)
    for k in list(r):
        if k.endswith("_us") and ("paced_" in k or "setup_" in k):
            r[k[:-3] + "_ms"] = r[k] / 1000.0
    if "paced_expected" in r:
        r["paced_delivered"] = f"{fmt(r.get('paced_received'))} / {fmt(r['paced_expected'])}"
    if "server_rss_start_kb" in r:
        r["rss_start_mib"] = r["server_rss_start_kb"] / 1024
    if "server_rss_held_kb" in r:
        r["rss_held_mib"] = r["server_rss_held_kb"] / 1024
    # The load generator left these out when they were 0 until 2026-12-07
    # (results kept with --json from before then): a finished run without
    # them had no failures.
    if "errors" in r:
        for k in ("errors_setting_up", "errors_connected"):
            r.setdefault(k, 0)
    return r


def share(v):
    return f"{v * 100:.0f} %" if isinstance(v, (int, float)) else "–"


def scenario_table(name, cpp, node):
    rows = []
    cpp, node = derive(cpp or {}), derive(node or {})
    for label, key, hib in METRICS[name]:
        c, n = cpp.get(key), node.get(key)
        if key.endswith("sys_share"):
            rows.append((label, share(c), share(n), ""))
            continue
        rows.append((label, fmt(c), fmt(n),
                     ratio(n, c, hib) if hib is not None and isinstance(c, (int, float)) else ""))
    return table(rows, ["", "daheim-live", "Node socket.io", "Node ÷ C++ (×: C++ better)"])


def verdict(ok):
    return "met" if ok else "**not met**"


def targets(res):
    c = {k: derive(v) for k, v in res.get("cpp-libuv", {}).items()}
    n = {k: derive(v) for k, v in res.get("node", {}).items()}
    poll = {k: derive(v) for k, v in res.get("loop-poll", {}).items()}
    c.update({k: derive(v) for k, v in res.get("loop-libuv", {}).items() if k not in c})
    rows = []

    def g(d, s, k):
        return d.get(s, {}).get(k)

    v = g(c, "echo-ws-50", "server_us_per_op")
    v1 = g(c, "echo-ws-1", "server_us_per_op")
    if v is not None:
        # Judged on 50 clients: with one client every ack is a full sleep and
        # wake-up of both processes, whose cost depends on how idle the machine is.
        rows.append(("echo over websocket ≤ 10 µs server CPU per ack (50 clients)",
                     f"{fmt(v)} µs (1 client: {fmt(v1)} µs)",
                     f"{fmt(g(n, 'echo-ws-50', 'server_us_per_op'))} µs (1 client: "
                     f"{fmt(g(n, 'echo-ws-1', 'server_us_per_op'))} µs)",
                     verdict(v <= 10)))
    cp, np_ = g(c, "echo-ws-paced", "p99_us"), g(n, "echo-ws-paced", "p99_us")
    if cp is not None:
        rows.append(("echo p99 below Node's at the same offered load (10,000 acks/s)",
                     f"{fmt(cp)} µs", f"{fmt(np_)} µs", verdict(np_ is not None and cp < np_)))
    v = g(c, "echo-polling-50", "server_us_per_op")
    if v is not None:
        rows.append(("echo over polling ≤ 15 µs per ack", f"{fmt(v)} µs",
                     f"{fmt(g(n, 'echo-polling-50', 'server_us_per_op'))} µs", verdict(v <= 15)))
    v = g(c, "fanout-10k", "burst_server_us_per_op")
    if v is not None:
        rows.append(("fan-out burst ≤ 1 µs per delivery", f"{fmt(v)} µs",
                     f"{fmt(g(n, 'fanout-10k', 'burst_server_us_per_op'))} µs", verdict(v <= 1)))
    p99 = g(c, "fanout-10k", "paced_delivery_p99_ms")
    if p99 is not None:
        inc = g(c, "fanout-10k", "paced_incomplete_messages")
        rows.append(("fan-out to 10,000 at 10 msg/s: all delivered, p99 ≤ 50 ms",
                     f"p99 {fmt(p99)} ms, p50 {fmt(g(c, 'fanout-10k', 'paced_delivery_p50_ms'))} ms,"
                     f" {fmt(inc)} incomplete",
                     f"p99 {fmt(g(n, 'fanout-10k', 'paced_delivery_p99_ms'))} ms, p50 "
                     f"{fmt(g(n, 'fanout-10k', 'paced_delivery_p50_ms'))} ms",
                     verdict(p99 <= 50 and not inc)))
    v = g(c, "idle-19k", "rss_per_conn_bytes")
    if v is not None:
        rows.append(("idle websocket ≤ 2 KiB RSS per connection at 19,000",
                     f"{fmt(v)} B ({fmt(g(c, 'idle-19k', 'conns_after_hold'))} held)",
                     f"{fmt(g(n, 'idle-19k', 'rss_per_conn_bytes'))} B", verdict(v <= 2048)))
    v = g(c, "storm-10k", "connect_server_us_per_op")
    if v is not None:
        rows.append(("connection set-up ≤ 100 µs per connection", f"{fmt(v)} µs",
                     f"{fmt(g(n, 'storm-10k', 'connect_server_us_per_op'))} µs",
                     verdict(v <= 100)))
    v = g(c, "setup-default-2k", "connect_server_us_per_op")
    if v is not None:
        nv = g(n, "setup-default-2k", "connect_server_us_per_op")
        rows.append(("set-up with the default transports (polling, CONNECT, upgrade), per "
                     "connection, against Node", f"{fmt(v)} µs",
                     f"{fmt(nv)} µs", f"Node ÷ ours {ratio(nv, v)}"))
    v = g(c, "storm-default-10k", "connect_wall_s")
    if v is not None:
        def storm(d):
            return (f"{fmt(g(d, 'storm-default-10k', 'conns'))} connected in "
                    f"{fmt(g(d, 'storm-default-10k', 'connect_wall_s'))} s, "
                    f"{fmt(g(d, 'storm-default-10k', 'errors'))} failed, "
                    f"{fmt(g(d, 'storm-default-10k', 'connect_server_us_per_op'))} µs server "
                    "CPU each")
        rows.append(("storm of 10,000 clients with the default transports", storm(c), storm(n),
                     "measured"))
    v5 = g(c, "idle-5k", "echo_server_us_per_op")
    pv = g(poll, "idle-5k", "echo_server_us_per_op")
    if v5 is not None or pv is not None:
        v = g(c, "idle-19k", "echo_server_us_per_op")
        rows.append(("epoll loop (libuv, the default) instead of poll(): echo beside idle "
                     "connections",
                     f"5,000 idle: {fmt(v5)} µs per ack (poll(): {fmt(pv)} µs); "
                     f"19,000 idle: {fmt(v)} µs",
                     f"19,000 idle: {fmt(g(n, 'idle-19k', 'echo_server_us_per_op'))} µs",
                     verdict(v5 is not None and pv is not None and v5 * 5 < pv) +
                     (" at 5,000; at 19,000 the timers bound it (finding 2)"
                      if v is not None and v > 5 * v5 else "")))
    return table(rows, ["target", "daheim-live", "Node socket.io", ""])


def loop_table(res):
    rows = []
    for name, key, label in [("echo-ws-50", "server_us_per_op", "echo, 50 clients: server CPU µs/ack"),
                             ("echo-ws-50", "ops_per_s", "echo, 50 clients: acks/s"),
                             ("echo-ws-50", "p99_us", "echo, 50 clients: p99 µs"),
                             ("echo-ws-paced", "server_us_per_op",
                              "echo, 10,000 acks/s: server CPU µs/ack"),
                             ("echo-ws-paced", "p50_us", "echo, 10,000 acks/s: p50 µs"),
                             ("echo-ws-paced", "p99_us", "echo, 10,000 acks/s: p99 µs"),
                             ("idle-5k", "connect_server_us_per_op",
                              "5,000 idle: set-up server CPU µs/connection"),
                             ("idle-5k", "rss_per_conn_bytes", "5,000 idle: RSS per connection, B"),
                             ("idle-5k", "hold_server_cpu_s", "5,000 idle: server CPU in the 5 s hold, s"),
                             ("idle-5k", "echo_server_us_per_op",
                              "5,000 idle + echo: server CPU µs/ack"),
                             ("idle-5k", "echo_ops_per_s", "5,000 idle + echo: acks/s"),
                             ("idle-5k", "echo_p99_us", "5,000 idle + echo: p99 µs")]:
        rows.append((label, *[fmt(derive(res.get(f"loop-{l}", {}).get(name, {})).get(key))
                              for l in ("poll", "libev", "libuv")]))
    return table(rows, ["", "poll()", "libev (epoll)", "libuv (epoll)"])


def callgrind_section(cg):
    if not cg:
        return "callgrind: not run (valgrind missing or --no-callgrind).\n"
    out = []
    rows = []
    for name, d in cg.items():
        if not d or not d.get("ir"):
            continue
        per = d["ir"] / d["ops"] if d["ops"] else None
        rows.append((name, f"{d['ir']:,}", fmt(d["ops"]), fmt(per)))
    out.append(table(rows, ["phase (daheim-live, libuv)", "instructions (user space)", "operations",
                            "instructions per operation"]))
    for name, d in cg.items():
        if not d or not d.get("top"):
            continue
        out.append(f"\nTop functions by own instructions, {name}:\n")
        out.append(table([(f"`{fn}`", lib, f"{ir:,}", f"{pct:.1f} %",
                           fmt(ir / d['ops']) if d['ops'] else "–")
                          for ir, pct, fn, lib in d["top"]],
                         ["function", "object", "instructions", "share", "per operation"]))
    return "\n".join(out) + "\n"


def floor_table(res):
    f = res["floor"]["idle-19k"]
    c = res.get("cpp-libuv", {}).get("idle-19k", {})
    ours, floor = c.get("rss_per_conn_bytes"), f.get("rss_per_conn_bytes")
    rows = [("connected (held)", fmt(c.get("conns_after_hold")), fmt(f.get("conns_after_hold"))),
            ("server RSS at start, MiB", fmt(c.get("server_rss_start_kb", 0) / 1024),
             fmt(f.get("server_rss_start_kb", 0) / 1024)),
            ("server RSS per connection, bytes", fmt(ours), fmt(floor)),
            ("connect: server CPU µs/connection", fmt(c.get("connect_server_us_per_op")),
             fmt(f.get("connect_server_us_per_op")))]
    out = ["The floor: `bench/lws_floor.c` (libwebsockets with daheim-live's settings: libuv as a "
           "foreign loop, 512-byte receive buffer, 16 KiB header space, no validity timers) accepts "
           "the same clients, sends the open packet and the CONNECT ack, and holds them.\n",
           "|  | daheim-live | lws floor |", "|---|---|---|"]
    out += [f"| {a} | {b} | {d} |" for a, b, d in rows]
    if ours and floor:
        out.append(f"\ndaheim-live ÷ floor: **{ours / floor:.2f}×** per connection "
                   f"({ours - floor:,.0f} B of our own per idle connection).")
    return "\n".join(out)


def write_report(path, res, cg, sc, info, started, load0, load1, elapsed, argv=None):
    names = [n for n, _, _, _ in SCENARIOS]
    desc = {n: d for n, _, _, d in SCENARIOS}
    parts = [
        "<!-- bench:begin (generated by bench/run.py; edit outside these markers) -->",
        f"## Results of {started} (`{' '.join(argv if argv is not None else sys.argv[1:]) or 'bench/run.py'}`)\n",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['mem']}, Linux {info['kernel']}, "
        f"open files hard limit {info['nofile']}. libwebsockets {info['lws']}, Node.js {info['node']}, "
        f"socket.io {info['socketio']}. Commit {info['commit']}. "
        f"Load average before: {load0}, after: {load1} (other work shared the 2 cores). "
        f"Whole run: {elapsed:.0f} s.\n",
        "Every scenario ran on a fresh server process; the load generator (`daheim-loadgen`, one "
        "thread, epoll) ran on the same machine, so server and client share the 2 cores: the client "
        "CPU per operation is in every table. Server CPU is user + system time of all its threads "
        "(/proc); RSS is VmRSS. daheim-live ran on its default event loop (libuv) unless noted.\n",
        "### Targets\n", targets(res), "",
    ]
    for n in names:
        if n in LOOP_ONLY:
            continue
        if n not in res.get("cpp-libuv", {}) and n not in res.get("node", {}):
            continue
        parts += [f"### {n}: {desc[n]}\n",
                  scenario_table(n, res.get("cpp-libuv", {}).get(n), res.get("node", {}).get(n)), ""]
        if n == "idle-19k" and "floor" in res:
            parts += [floor_table(res), ""]
    if "echo-plugin-50" in res.get("cpp-libuv", {}):
        parts += ["### echo-plugin-50: `$message-with-ack` answered by the conformance plugin\n",
                  "The same load as echo-ws-50, but the event goes through the plugin host to "
                  "`plugins/conformance` (`$message-with-ack`) instead of the built-in test "
                  "handler; Node runs its usual handler.\n",
                  scenario_table("echo-ws-1", res["cpp-libuv"]["echo-plugin-50"],
                                 res.get("node", {}).get("echo-ws-50")), ""]
    else:
        parts += ["### `$`-method call through a plugin\n",
                  "Pending: the server could not be configured with the conformance plugin (the "
                  "plugin host's configuration has not landed); the scenario is echo-ws-50 with "
                  "`message-with-ack` answered by `plugins/conformance`'s `$message-with-ack`.\n"]
    if any(k in res for k in ("loop-poll", "loop-libev")):
        parts += ["### daheim-live on each event loop (`eventLoop`)\n",
                  "Run one loop after the other, in a pass of their own.\n", loop_table(res), ""]
    parts += ["### System calls per operation (strace -c)\n",
              "Counted for the server during the measured phase; exact and repeatable.\n",
              syscall_section(sc)]
    parts += ["### Instruction counts (callgrind)\n",
              "Repeatable where the CPU times above are not: user-space instructions of the server "
              "only (kernel time is not counted), during the measured phase.\n",
              callgrind_section(cg)]
    parts.append("<!-- bench:end -->")
    body = "\n".join(parts) + "\n"
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    m = re.search(r"<!-- bench:begin.*?<!-- bench:end -->\n?", old, re.S)
    if m:
        new = old[:m.start()] + body + old[m.end():]
    else:
        new = (old.rstrip() + "\n\n" if old else "# Benchmarks\n\n") + body
    with open(path, "w") as f:
        f.write(new)


def main():
    global args_global
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default=os.path.join(ROOT, "build/core/app/daheim-live"))
    ap.add_argument("--loadgen", default=os.path.join(ROOT, "build/bench/daheim-loadgen"))
    ap.add_argument("--floor", default=os.path.join(ROOT, "build/bench/daheim-lws-floor"),
                    help="the idle-memory floor server (bench/lws_floor.c)")
    ap.add_argument("--node-dir", default=os.path.join(ROOT, "bench/node"))
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--quick", action="store_true", help="small scenarios, for a smoke run")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--no-node", action="store_true")
    ap.add_argument("--no-loops", action="store_true", help="skip the poll/libev repeats")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-strace", action="store_true")
    ap.add_argument("--from-json", help="only rewrite the report from the raw results of --json")
    ap.add_argument("--plugin", default=os.path.join(ROOT, "build/plugins/conformance/conformance.so"),
                    help="the conformance plugin (for the $-method scenario)")
    args = ap.parse_args()
    args_global = args
    if args.from_json:
        with open(args.from_json) as f:
            d = json.load(f)
        m = d.get("meta", {})
        sc = {tuple(k.rsplit(" / ", 1)): v for k, v in d.get("syscalls", {}).items()}
        write_report(args.out, d["results"], d.get("callgrind", {}), sc, d["machine"],
                     m.get("started", "?"), m.get("load0", "?"), m.get("load1", "?"),
                     m.get("elapsed", 0), m.get("argv"))
        log(f"wrote {args.out} from {args.from_json}")
        return
    for p in (args.server, args.loadgen):
        if not os.access(p, os.X_OK):
            sys.exit(f"bench: {p} is not built (ninja -C build)")
    if not args.no_node and not os.path.isdir(os.path.join(args.node_dir, "node_modules/socket.io")):
        log("installing the Node.js reference server's packages (npm ci)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=args.node_dir, check=True)
    # 19,000 connections need as many descriptors in the server and in the
    # load generator: the soft limit goes up to the hard one for both.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    names = [n for n, _, _, _ in SCENARIOS]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load0 = loadavg()
    t0 = time.time()
    info = machine()
    res = {}
    for n in names:
        if n in LOOP_ONLY:
            continue
        # Back to back: the same scenario on both servers before the next one.
        res.setdefault("cpp-libuv", {})[n] = run_one(args, "cpp", n, "libuv")
        if not args.no_node:
            res.setdefault("node", {})[n] = run_one(args, "node", n)
        if n == "idle-19k" and os.access(args.floor, os.X_OK):
            res.setdefault("floor", {})[n] = run_floor(args, n)
    global PLUGIN_KEYS
    PLUGIN_KEYS = probe_plugin(args)
    if PLUGIN_KEYS and (not args.only or "echo-plugin-50" in args.only.split(",")):
        res.setdefault("cpp-libuv", {})["echo-plugin-50"] = run_one(args, "cpp", "echo-plugin-50", "libuv")
    else:
        log("the $-method scenario is pending: the server takes no plugin configuration yet")
    if not args.no_loops:
        for n in LOOP_SCENARIOS:
            for loop in ("poll", "libev", "libuv"):
                if n in names:
                    res.setdefault(f"loop-{loop}", {})[n] = run_one(args, "cpp", n, loop)
    cg = {}
    if not args.no_callgrind:
        q = args.quick
        cg["echo over websocket, 1 client (per ack)"] = callgrind(
            args, "echo", ["echo", "--clients", "1", "--warmup", "1", "--duration",
                           "1" if q else "4"])
        cg["echo over polling, 4 clients (per ack)"] = callgrind(
            args, "echo-polling", ["echo", "--transport", "polling", "--clients", "4", "--warmup",
                                   "1", "--duration", "1" if q else "4"])
        cg["fan-out burst, 1,000 clients x 5 (per delivery)"] = callgrind(
            args, "fanout", ["fanout", "--conns", "1000", "--burst", "5", "--timeout", "120"],
            handler="e2e")
        cg["connection set-up, 500 clients (per connection)"] = callgrind(
            args, "storm", ["storm", "--conns", "500", "--window", "64", "--timeout", "120"])
        if not q:
            cg["connection set-up, 2,000 clients (per connection)"] = callgrind(
                args, "storm", ["storm", "--conns", "2000", "--window", "64", "--timeout", "300"])
        cg[f"{1000 if q else 4000:,} idle clients held 4 s, pingInterval 1 s (per client)"] = callgrind(
            args, "idle", ["idle", "--conns", "1000" if q else "4000", "--hold", "4", "--window",
                           "128", "--timeout", "300"], engineio={"pingInterval": 1000})
    sc = {}
    if not args.no_strace and shutil.which("strace"):
        for label, handler, lg, key in SYSCALL_RUNS:
            loops = ("poll", "libev", "libuv") if handler == "e2e" or "websocket" in label else ("libuv",)
            for loop in loops:
                sc[(label, loop)] = syscalls(args, label, handler, lg, key, loop)
    load1 = loadavg()
    write_report(args.out, res, cg, sc, info, started, load0, load1, time.time() - t0)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": res, "callgrind": cg, "machine": info,
                       "meta": {"started": started, "load0": load0, "load1": load1,
                                "elapsed": time.time() - t0, "argv": sys.argv[1:]},
                       "syscalls": {f"{k[0]} / {k[1]}": v for k, v in sc.items()}}, f, indent=1)
    log(f"wrote {args.out} in {time.time() - t0:.0f} s")


args_global = None

if __name__ == "__main__":
    main()
