#!/usr/bin/env python3
"""Two-node cluster benchmark: two daheim-live nodes (cluster {redis, adapter
"pubsub"}) against two Node.js socket.io 4.8 processes with
@socket.io/redis-adapter 8.3 (bench/node/server.mjs with BENCH_REDIS_URL), each
pair over its own redis-server (a free port, its own temp dir), in one run.
The load generator splits the clients half/half over the two nodes (--port2).

    python3 bench/cluster.py --server build/core/app/daheim-live \\
        --loadgen build/bench/daheim-loadgen --node-dir bench/node

Scenarios per kind: a burst (--burst-conns clients, 20 broadcasts at once from
a client on node 1) and a paced run (--paced-conns clients, 10 broadcasts/s for
10 s). CPU is read around the burst from /proc (utime+stime of /proc/PID/stat,
and the threads' schedstat in ns, which is finer than the 10 ms tick) for both
nodes and redis-server, plus Redis's INFO commandstats. The machine is shared:
CPU time per operation is the figure, wall times are only indicative.
Prints a markdown table on stdout.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing run.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (ServerProcess, cpp_config, test_binary, run_loadgen, loadavg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server on a free loopback port in its own temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bench-redis-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.cli("PING").strip() == "PONG":
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def cli(self, *cmd):
        r = subprocess.run(["redis-cli", "-p", str(self.port), *cmd], capture_output=True,
                           text=True)
        return r.stdout

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def proc_cpu(pid):
    """(utime+stime seconds from /proc/PID/stat, schedstat seconds of all threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    stat_s = (int(fields[11]) + int(fields[12])) / tick  # utime(14), stime(15)
    sched = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                sched += int(f.read().split()[0])
        except OSError:
            pass
    return stat_s, sched / 1e9


def commandstats(text):
    """{command: (calls, usec)} from INFO commandstats."""
    out = {}
    for line in text.splitlines():
        if line.startswith("cmdstat_"):
            name, rest = line[len("cmdstat_"):].split(":", 1)
            kv = dict(p.split("=") for p in rest.strip().split(","))
            out[name] = (int(kv["calls"]), int(kv["usec"]))
    return out


def snapshot(args):
    """--snap FILE REDISPORT PID...: the hook the loadgen runs around the burst."""
    path, rport, pids = args[0], args[1], args[2:]
    info = subprocess.run(["redis-cli", "-p", rport, "INFO", "commandstats"], capture_output=True,
                          text=True).stdout
    with open(path, "w") as f:
        json.dump({"t": time.monotonic(), "cpu": {p: proc_cpu(int(p)) for p in pids},
                   "cmd": commandstats(info)}, f)


def start_nodes(args, kind, redis):
    if kind == "node":
        env = {**os.environ, "BENCH_REDIS_URL": redis.url}
        argv = ["node", os.path.join(args.node_dir, "server.mjs"), "127.0.0.1", "0"]
        return [run.ServerProcess(argv, "node", env=env) for _ in range(2)]
    nodes = []
    for _ in range(2):
        conf = run.cpp_config("e2e", "libuv")
        with open(conf) as f:
            c = json.load(f)
        c["cluster"] = {"redis": redis.url + "/0", "adapter": "pubsub"}
        with open(conf, "w") as f:
            json.dump(c, f)
        try:
            nodes.append(run.ServerProcess(
                [run.test_binary(args.server), "--config", conf, "--listen", "127.0.0.1:0"],
                "daheim-live"))
        finally:
            os.unlink(conf)
    return nodes


def loadgen(args, nodes, lg_args, extra=()):
    argv = [args.loadgen, *lg_args, "--port", str(nodes[0].port), "--port2", str(nodes[1].port),
            "--server-pid", str(nodes[0].pid), *extra]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"loadgen {' '.join(lg_args)} failed: {out.stderr[-1000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def burst(args, kind, conns, count):
    redis = Redis()
    nodes = start_nodes(args, kind, redis)
    tmp = tempfile.mkdtemp(prefix="bench-cluster-")
    try:
        # Redis's idle CPU (serverCron, the nodes' pings) per second, taken off
        # its CPU over the burst window.
        i0, t0 = proc_cpu(redis.proc.pid)[1], time.monotonic()
        time.sleep(2)
        idle_rate = (proc_cpu(redis.proc.pid)[1] - i0) / (time.monotonic() - t0)
        pids = " ".join(str(p) for p in (nodes[0].pid, nodes[1].pid, redis.proc.pid))
        me = f"python3 {os.path.abspath(__file__)} --snap"
        hooks = ["--before", f"{me} {tmp}/before {redis.port} {pids}",
                 "--after", f"{me} {tmp}/after {redis.port} {pids}"]
        res = loadgen(args, nodes, ["fanout", "--conns", str(conns), "--burst", str(count),
                                    "--timeout", "120", *hooks])
        with open(f"{tmp}/before") as f:
            b = json.load(f)
        with open(f"{tmp}/after") as f:
            a = json.load(f)
    finally:
        for n in nodes:
            n.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    d = {p: (a["cpu"][p][0] - b["cpu"][p][0], a["cpu"][p][1] - b["cpu"][p][1]) for p in a["cpu"]}
    n1, n2, r = (str(p) for p in (nodes[0].pid, nodes[1].pid, redis.proc.pid))
    got = res.get("burst_received", 0)
    cmd = {k: (a["cmd"][k][0] - b["cmd"].get(k, (0, 0))[0],
               a["cmd"][k][1] - b["cmd"].get(k, (0, 0))[1]) for k in a["cmd"]}
    cmd.pop("info", None)
    return {
        "conns": res.get("conns"), "received": got, "expected": count * res.get("conns", 0),
        "wall_ms": res.get("burst_wall_s", 0) * 1e3,
        "node1_sched_s": d[n1][1], "node2_sched_s": d[n2][1],
        "nodes_stat_s": d[n1][0] + d[n2][0], "nodes_sched_s": d[n1][1] + d[n2][1],
        "redis_stat_s": d[r][0], "redis_sched_s": d[r][1],
        "us_per_delivery": (d[n1][1] + d[n2][1]) * 1e6 / got if got else 0,
        "us_per_delivery_stat": (d[n1][0] + d[n2][0]) * 1e6 / got if got else 0,
        "redis_us_per_broadcast": d[r][1] * 1e6 / count,
        "redis_idle_us_per_s": idle_rate * 1e6,
        "redis_net_us_per_broadcast":
            max(0.0, d[r][1] - idle_rate * (a["t"] - b["t"])) * 1e6 / count,
        "commandstats": cmd, "errors": res.get("errors", 0),
    }


def paced(args, kind):
    redis = Redis()
    nodes = start_nodes(args, kind, redis)
    try:
        res = loadgen(args, nodes, ["fanout", "--conns", str(args.paced_conns), "--rate",
                                    str(args.rate), "--duration", str(args.duration),
                                    "--timeout", "300"])
    finally:
        for n in nodes:
            n.stop()
        redis.stop()
    return {
        "conns": res.get("conns"), "received": res.get("paced_received"),
        "expected": res.get("paced_expected"),
        "incomplete": res.get("paced_incomplete_messages"),
        "p50_ms": res.get("paced_delivery_p50_us", 0) / 1e3,
        "p99_ms": res.get("paced_delivery_p99_us", 0) / 1e3,
        "all_p99_ms": res.get("paced_all_received_p99_us", 0) / 1e3,
        # Run delay (runnable, waiting for a CPU) over the paced window: how
        # loaded the machine was for the load generator and node 1.
        "lg_wait_s": res.get("paced_client_wait_s", 0),
        "node1_wait_s": res.get("paced_server_wait_s", 0),
        "wall_s": res.get("paced_wall_s", 0),
        "errors": res.get("errors", 0),
    }


def table(r):
    args_redis = f"{r['redis_burst']} broadcasts to {r['redis_conns']} clients"

    def row(label, key, fmt, ratio=True):
        a, b = flat["daheim"].get(key), flat["node"].get(key)
        q = f"{a / b:.2f}" if ratio and a and b else ""
        return f"| {label} | {fmt.format(a)} | {fmt.format(b)} | {q} |"

    flat = {"daheim": {}, "node": {}}
    for side in flat:
        b, p, rb = r[side]["burst"], r[side]["paced"], r[side]["redis"]
        f = flat[side]
        f["r_recv"] = f"{rb['received']}/{rb['expected']}"
        f["r_net"] = rb["redis_net_us_per_broadcast"]
        f["r_tot"] = rb["redis_us_per_broadcast"]
        rpub = rb["commandstats"].get("publish", (0, 0))
        f["r_pub"] = f"{rpub[0]} calls, {rpub[1] / max(rpub[0], 1):.1f} µs each"
        f["b_conns"] = b["conns"]
        f["b_recv"] = f"{b['received']}/{b['expected']}"
        f["us_del"] = b["us_per_delivery"]
        f["us_del_stat"] = b["us_per_delivery_stat"]
        f["redis_us"] = b["redis_us_per_broadcast"]
        f["redis_net"] = b["redis_net_us_per_broadcast"]
        pub = b["commandstats"].get("publish", (0, 0))
        f["pub"] = f"{pub[0]} calls, {pub[1] / max(pub[0], 1):.1f} µs each"
        f["wall"] = b["wall_ms"]
        f["p_conns"] = p["conns"]
        f["p_recv"] = f"{int(p['received'])}/{int(p['expected'])}"
        f["p50"] = p["p50_ms"]
        f["p99"] = p["p99_ms"]
        f["all99"] = p["all_p99_ms"]
        f["wait"] = f"{p['lg_wait_s']:.2f} s / {p['node1_wait_s']:.2f} s of {p['wall_s']:.1f} s"
    lines = [
        "| two nodes + Redis | daheim-live ×2 | Node.js ×2 (redis-adapter) | ratio |",
        "|---|---:|---:|---:|",
        row("burst: clients (half per node)", "b_conns", "{}", False),
        row("burst: deliveries (20 broadcasts)", "b_recv", "{}", False),
        row("server CPU per delivery, both nodes (schedstat)", "us_del", "{:.2f} µs"),
        row("server CPU per delivery, both nodes (/proc stat ticks)", "us_del_stat", "{:.2f} µs"),
        row("Redis INFO commandstats: PUBLISH", "pub", "{}", False),
        row("burst: time to all delivered (wall, loaded machine)", "wall", "{:.0f} ms"),
        row(f"Redis burst: deliveries ({args_redis})", "r_recv", "{}", False),
        row("redis-server CPU per broadcast (schedstat, window total)", "r_tot", "{:.1f} µs"),
        row("redis-server CPU per broadcast, idle rate taken off", "r_net", "{:.1f} µs"),
        row("Redis INFO commandstats: PUBLISH", "r_pub", "{}", False),
        row("paced 10/s × 10 s: clients", "p_conns", "{}", False),
        row("paced: deliveries", "p_recv", "{}", False),
        row("paced: delivery p50", "p50", "{:.1f} ms"),
        row("paced: delivery p99", "p99", "{:.1f} ms"),
        row("paced: p99 time until all clients had a message", "all99", "{:.1f} ms"),
        row("paced: run delay (waiting for a CPU) of loadgen / node 1", "wait", "{}", False),
    ]
    return "\n".join(lines)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--snap":
        return snapshot(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", default=os.path.join(run.ROOT, "build/core/app/daheim-live"))
    ap.add_argument("--loadgen", default=os.path.join(run.ROOT, "build/bench/daheim-loadgen"))
    ap.add_argument("--node-dir", default=os.path.join(run.ROOT, "bench/node"))
    ap.add_argument("--burst-conns", type=int, default=4000)
    ap.add_argument("--burst", type=int, default=20)
    ap.add_argument("--redis-conns", type=int, default=100)
    ap.add_argument("--redis-burst", type=int, default=1000,
                    help="broadcasts of the burst that measures Redis's CPU per broadcast")
    ap.add_argument("--paced-conns", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=10)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--json", help="keep the raw results here")
    args = ap.parse_args()
    results = {"loadavg_start": run.loadavg(), "redis_burst": args.redis_burst,
               "redis_conns": args.redis_conns}
    for kind in ("daheim", "node"):
        run.log(f"{kind}: burst, {args.burst_conns} clients")
        results[kind] = {"burst": burst(args, kind, args.burst_conns, args.burst)}
        run.log(f"{kind}: Redis burst, {args.redis_burst} broadcasts to {args.redis_conns} clients")
        results[kind]["redis"] = burst(args, kind, args.redis_conns, args.redis_burst)
        run.log(f"{kind}: paced, {args.paced_conns} clients")
        results[kind]["paced"] = paced(args, kind)
    results["loadavg_end"] = run.loadavg()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(table(results))
    print(f"\nload average (1/5/15 min): {results['loadavg_start']} at the start, "
          f"{results['loadavg_end']} at the end")


if __name__ == "__main__":
    main()
