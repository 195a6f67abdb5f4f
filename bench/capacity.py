#!/usr/bin/env python3
"""Capacity search: the largest number of Daheim users one daheim-live
process carries with every service level held.

    ninja -C build capacity                   # what the run_target does
    python3 bench/capacity.py --server build/core/app/daheim-live \\
        --loadgen build/bench/daheim-loadgen --plugins-dir build/plugins

For each N the server starts afresh with the presence and push plugins and
JWT auth (the development secret), and the load generator runs its `daheim`
scenario against it: N users with the tutoring-site rates of its defaults
(`daheim-loadgen --help`), `--duration` seconds measured. A step passes when
the generator exits 0 (p99 ack and push latency, no missed push or ack, no
disconnect nobody asked for, server CPU below 80 % of --server-cores). N
doubles from --start until a step fails or the next N does not fit the
file-descriptor limit of this host; then --bisect steps narrow the gap.

Prints one line per step and a Markdown table at the end; --json FILE keeps
every step's full report. Anything after `--` goes to the load generator
(e.g. `-- --push-per-min 2`).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

DEV_SECRET = "daheim-live-development-secret-never-use-in-production"
DEV_PUSH_SECRET = "daheim-live-development-push-secret-never-in-production"
FDS_BESIDE_CONNECTIONS = 64  # what the server keeps below RLIMIT_NOFILE
TABS_PER_USER = 1.2  # room for second tabs (--two-tab-share 0.15) and churn


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


def start_server(args, tmp):
    config = {
        "listen": "127.0.0.1:0",
        "log": {"level": "notice"},
        "engineio": {"maxConnections": fd_limit() - FDS_BESIDE_CONNECTIONS},
        "auth": {"devSecret": DEV_SECRET, "audiences": ["realtime"]},
        "pluginDir": os.path.abspath(args.plugins_dir),
        "plugins": [
            {"path": "presence/presence.so", "config": json.loads(args.presence)},
            {"path": "push/push.so", "config": {"devBearerSecret": DEV_PUSH_SECRET}},
        ],
    }
    path = os.path.join(tmp, "config.json")
    with open(path, "w") as f:
        json.dump(config, f)
    errlog = open(os.path.join(tmp, "server.log"), "w+")
    proc = subprocess.Popen([args.server, "--config", path], stdout=subprocess.DEVNULL,
                            stderr=errlog, preexec_fn=raise_fd_limit)
    deadline = time.time() + 15
    while time.time() < deadline:
        errlog.seek(0)
        text = errlog.read()
        for line in text.splitlines():
            if "listening on http://" in line:
                port = int(line.split("listening on http://")[1].split("/")[0].rsplit(":", 1)[1])
                return proc, port, errlog
        if proc.poll() is not None:
            sys.exit(f"capacity: the server exited {proc.returncode}:\n{text}")
        time.sleep(0.05)
    proc.kill()
    sys.exit("capacity: the server did not log `listening on` within 15 s")


def step(args, users):
    with tempfile.TemporaryDirectory(prefix="daheim-capacity-") as tmp:
        proc, port, errlog = start_server(args, tmp)
        try:
            cmd = [args.loadgen, "daheim", "--port", str(port), "--server-pid", str(proc.pid),
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
            errlog.seek(0)
            report["server_warnings"] = [l for l in errlog.read().splitlines()
                                         if l.startswith(("<3>", "<4>")) and "development" not in l]
            return report
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def cpu_per_user(r):
    """Server CPU seconds per user and second of the measured phase."""
    return r["run_server_cpu_s"] / max(r["run_wall_s"] * r["users"], 1e-9)


def wait_share(r, who="server"):
    """Share of the wall time the process was runnable but had no CPU."""
    return r[f"run_{who}_wait_s"] / max(r["run_wall_s"], 1e-9)


def bound(r):
    """What stopped a failed step (or would stop the next one)."""
    failed = r.get("slo_failed", "")
    if "cpu" in failed:
        return "server CPU"
    if r.get("client_cpu_share", 0) > 0.8:
        return "the generator's core"
    if "push_unsent" in failed:
        return "the generator's push connections (pushes left unsent: raise --api-conns)"
    if failed and wait_share(r) > r["server_cpu_share"]:
        return (f"CPU starvation: the server waited for a core {wait_share(r):.0%} of the time "
                f"and ran {r['server_cpu_share']:.0%} (other processes held the cores)")
    if failed:
        return f"service levels ({failed}) with server CPU {r.get('server_cpu_share', 0):.0%}"
    return ""


def summary(r, cores):
    return (f"users {int(r['users'])} tabs {int(r['tabs'])}: "
            f"{'ok' if r['exit'] == 0 else 'FAILED ' + r.get('slo_failed', '')}; "
            f"server CPU {r['server_cpu_share']:.0%} of {cores:g} core(s), generator CPU "
            f"{r['client_cpu_share']:.0%}, ack p99 {r['ack_p99_us'] / 1e3:.1f} ms, push p99 "
            f"{r['push_p99_us'] / 1e3:.1f} ms, {r['rss_per_user_bytes'] / 1024:.1f} KiB/user, "
            f"{cpu_per_user(r) * 1e6:.1f} us CPU per user-second, server waited for a core "
            f"{wait_share(r):.0%} of the time")


def table(steps):
    rows = ["| users | tabs | result | server CPU (share of cores) | server waiting for a core | "
            "CPU µs per user-second | users per core at 80 % (projected) | generator CPU | "
            "ack p99 ms | push p99 ms | RSS/user KiB | server RSS MiB | online events/s |",
            "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
            "---: |"]
    for r in steps:
        rows.append(
            f"| {int(r['users'])} | {int(r['tabs'])} | "
            f"{'held' if r['exit'] == 0 else 'failed: ' + r.get('slo_failed', '')} | "
            f"{r['server_cpu_share']:.1%} | {wait_share(r):.0%} | {cpu_per_user(r) * 1e6:.1f} | "
            f"{0.8 / max(cpu_per_user(r), 1e-12):,.0f} | {r['client_cpu_share']:.1%} | "
            f"{r['ack_p99_us'] / 1e3:.1f} | {r['push_p99_us'] / 1e3:.1f} | "
            f"{r['rss_per_user_bytes'] / 1024:.1f} | {r['server_rss_run_kb'] / 1024:.0f} | "
            f"{r['events_online'] / max(r['run_wall_s'], 1e-9):.0f} |")
    return "\n".join(rows)


def ladder(args):
    steps = []
    for users in args.steps:
        r = step(args, min(users, max_users()))
        steps.append(r)
        log(summary(r, args.server_cores))
    passed = [int(r["users"]) for r in steps if r["exit"] == 0]
    failed = [int(r["users"]) for r in steps if r["exit"] != 0]
    return steps, max(passed, default=None), min(failed, default=None), max_users()


def search(args):
    steps, passed, failed = [], None, None
    cap = max_users()
    users = min(args.start, cap)
    while True:
        r = step(args, users)
        steps.append(r)
        log(summary(r, args.server_cores))
        if r["exit"] != 0:
            failed = users
            break
        passed = users
        if users >= min(cap, args.max):
            break
        users = min(users * 2, cap, args.max)
    for _ in range(args.bisect if failed and passed else 0):
        users = (passed + failed) // 2
        if failed - passed <= max(passed // 20, 100):
            break
        r = step(args, users)
        steps.append(r)
        log(summary(r, args.server_cores))
        if r["exit"] == 0:
            passed = users
        else:
            failed = users
    return steps, passed, failed, cap


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--plugins-dir", required=True)
    ap.add_argument("--start", type=int, default=1000)
    ap.add_argument("--max", type=int, default=1_000_000)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--bisect", type=int, default=3)
    ap.add_argument("--server-cores", type=float, default=1)
    ap.add_argument("--presence", default="{}",
                    help='the presence plugin\'s config, e.g. \'{"onlineInterval": 1000}\'')
    ap.add_argument("--steps", type=lambda v: [int(x) for x in v.split(",")],
                    help="run these N (comma-separated) instead of searching")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    args.loadgen_args = extra
    raise_fd_limit()
    log(f"fd limit {fd_limit()}: at most {max_users()} users per process on this host")
    steps, passed, failed, cap = ladder(args) if args.steps else search(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(steps, f, indent=1)
    print(table(steps))
    print()
    if passed is None:
        print(f"No N held the service levels; the smallest tried ({steps[0]['users']:.0f}) "
              f"stopped at {bound(steps[0])}.")
    elif failed is None:
        last = steps[-1]
        why = (f"the most this host's fd limit lets one process take ({cap})" if passed >= cap
               else "the largest N asked for (--max)")
        print(f"Held at {passed} users, {why}; server CPU there {last['server_cpu_share']:.0%} "
              f"of {args.server_cores:g} core(s), generator {last['client_cpu_share']:.0%}.")
    else:
        worst = next(r for r in steps if r["users"] == failed)
        print(f"Largest N held: {passed} users; {failed} failed ({bound(worst)}).")
    for r in steps[-1:]:
        for w in r.get("server_warnings", []):
            print(f"server: {w}")


if __name__ == "__main__":
    main()
