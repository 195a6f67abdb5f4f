#!/usr/bin/env python3
"""Starts daheim-live the way daheim-live.service does and checks that it keeps
the unit's side of the contract, without systemd as PID 1:

  * Type=notify: READY=1 arrives on NOTIFY_SOCKET once the server listens, and
    the "listening on http://HOST:PORT" line is on stderr;
  * WatchdogSec=: with WATCHDOG_USEC set, WATCHDOG=1 arrives in time;
  * the server answers an Engine.IO handshake (polling) on that address;
  * ExecReload (SIGHUP): the server keeps running and keeps answering;
  * SIGTERM: STOPPING=1 arrives and the process exits with status 0;
  * with --socket-activation, the listener is passed as fd 3 with LISTEN_FDS=1,
    LISTEN_PID and LISTEN_FDNAMES, as daheim-live.socket does, and the server
    must serve on it.

Run as root with --user to drop to the service user as User= does.

usage: run-like-systemd.py --bin BIN [--user USER] [--socket-activation]
                           [--watchdog-usec N] [--timeout S] -- ARGS...
Prints one line per check; exits 0 when all passed, 1 otherwise.
"""
import argparse
import os
import pwd
import re
import signal
import socket
import sys
import threading
import time
import urllib.request

LISTENING = re.compile(r"listening on (http://\S+?)(/\S*)?\s*$")


class Run:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.notify_msgs = []  # (time, message)
        self.stderr_lines = []
        self.lock = threading.Lock()

    def check(self, ok, what):
        print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            self.failures.append(what)
        return ok

    def wait_for(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate():
                    return True
            if self.pid_exited():
                with self.lock:
                    return predicate()
            time.sleep(0.05)
        with self.lock:
            return predicate()

    def has_notify(self, key, after=0.0):
        return any(t >= after and key in m.split("\n") for t, m in self.notify_msgs)

    def pid_exited(self):
        if self.status is not None:
            return True
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == self.pid:
            self.status = status
            return True
        return False

    def read_notify(self, sock):
        while True:
            try:
                data = sock.recv(4096)
            except OSError:
                return
            with self.lock:
                self.notify_msgs.append((time.monotonic(), data.decode(errors="replace")))

    def read_stderr(self, fd):
        buf = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            with self.lock:
                self.stderr_lines += [line.decode(errors="replace") for line in lines]
            for line in lines:
                print(f"    | {line.decode(errors='replace')}", flush=True)

    def listening_url(self):
        for line in self.stderr_lines:
            m = LISTENING.search(line)
            if m:
                return m.group(1)
        return None

    def handshake(self, base_url):
        url = base_url + "/socket.io/?EIO=4&transport=polling"
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                body = r.read().decode(errors="replace")
                return r.status == 200 and body.startswith("0{") and '"sid"' in body, body[:80]
        except Exception as e:  # noqa: BLE001 - any failure is a failed probe
            return False, str(e)

    def start(self):
        a = self.args
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify_name = f"@daheim-live-test-{os.getpid()}"
        notify.bind("\0" + notify_name[1:])
        threading.Thread(target=self.read_notify, args=(notify,), daemon=True).start()

        listener = None
        if a.socket_activation:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            self.activation_url = f"http://127.0.0.1:{listener.getsockname()[1]}"

        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LISTEN_", "NOTIFY_SOCKET", "WATCHDOG_"))}
        env["NOTIFY_SOCKET"] = notify_name
        if a.watchdog_usec:
            env["WATCHDOG_USEC"] = str(a.watchdog_usec)

        uid = gid = None
        if a.user:
            pw = pwd.getpwnam(a.user)
            uid, gid = pw.pw_uid, pw.pw_gid

        r, w = os.pipe()
        self.status = None
        self.pid = os.fork()
        if self.pid == 0:  # child: become what systemd would exec
            try:
                os.dup2(w, 2)
                os.close(r)
                if listener is not None:
                    os.dup2(listener.fileno(), 3)
                    os.set_inheritable(3, True)
                    env["LISTEN_FDS"] = "1"
                    env["LISTEN_PID"] = str(os.getpid())
                    env["LISTEN_FDNAMES"] = "daheim-live.socket"
                if gid is not None:
                    os.setgroups([])
                    os.setgid(gid)
                    os.setuid(uid)
                os.execve(a.bin, [a.bin] + a.rest, env)
            except BaseException as e:  # noqa: BLE001
                os.write(2, f"exec failed: {e}\n".encode())
            os._exit(127)
        os.close(w)
        if listener is not None:
            listener.close()  # the server owns it now
        self.stderr_thread = threading.Thread(target=self.read_stderr, args=(r,), daemon=True)
        self.stderr_thread.start()

    def run(self):
        a = self.args
        t0 = time.monotonic()
        self.start()
        ready = self.wait_for(lambda: self.has_notify("READY=1") and self.listening_url(),
                              a.timeout)
        self.check(self.listening_url() is not None, "'listening on http://HOST:PORT' on stderr")
        self.check(self.has_notify("READY=1"), "READY=1 on NOTIFY_SOCKET")
        if not ready or self.pid_exited():
            self.check(False, "server still running after start")
            return self.finish()

        url = self.activation_url if a.socket_activation else self.listening_url()
        if a.socket_activation:
            # Informational: the line should name the inherited socket's address.
            print(f"  note passed socket {self.activation_url}, "
                  f"logged {self.listening_url()}", flush=True)
        ok, body = self.handshake(url)
        self.check(ok, f"Engine.IO handshake on {url}: {body}")

        if a.watchdog_usec:
            got = self.wait_for(lambda: self.has_notify("WATCHDOG=1"),
                                2 * a.watchdog_usec / 1e6)
            self.check(got, f"WATCHDOG=1 within {2 * a.watchdog_usec / 1e6:.1f} s "
                            f"(WATCHDOG_USEC={a.watchdog_usec})")
            if got:  # and again: it comes from the loop, not once at start
                t1 = time.monotonic()
                self.check(self.wait_for(lambda: self.has_notify("WATCHDOG=1", after=t1),
                                         2 * a.watchdog_usec / 1e6),
                           "WATCHDOG=1 repeats")

        os.kill(self.pid, signal.SIGHUP)
        time.sleep(0.5)
        self.check(not self.pid_exited(), "SIGHUP (ExecReload): still running")
        if self.status is None:
            ok, body = self.handshake(url)
            self.check(ok, f"handshake after SIGHUP: {body}")

        t_term = time.monotonic()
        if self.status is None:
            os.kill(self.pid, signal.SIGTERM)
        exited = self.wait_for(lambda: self.status is not None, a.timeout)
        if not exited:
            self.pid_exited()
        self.check(self.status is not None,
                   f"exits after SIGTERM within {a.timeout} s"
                   + (f" ({time.monotonic() - t_term:.2f} s)" if self.status is not None else ""))
        self.check(self.has_notify("STOPPING=1"), "STOPPING=1 on NOTIFY_SOCKET")
        print(f"  (ran {time.monotonic() - t0:.1f} s)", flush=True)
        return self.finish()

    def finish(self):
        if self.status is None and not self.pid_exited():
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.check(False, "had to SIGKILL the server")
        elif self.status is not None:
            code = os.waitstatus_to_exitcode(self.status)
            self.check(code == 0, f"exit status 0 (got {code})")
        self.stderr_thread.join(timeout=2)
        return 0 if not self.failures else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", required=True)
    p.add_argument("--user")
    p.add_argument("--socket-activation", action="store_true")
    p.add_argument("--watchdog-usec", type=int, default=0)
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("rest", nargs="*")
    a = p.parse_args()
    return Run(a).run()


if __name__ == "__main__":
    sys.exit(main())
