// Starts the real daheim-live binary for end-to-end tests.
//
// The binary comes from $DAHEIM_LIVE_BIN (meson passes it), else
// build/core/app/daheim-live under the repository root. A config naming a
// testHandler runs daheim-live-test instead ($DAHEIM_LIVE_TEST_BIN, else the
// one beside the binary): the production binary carries no test fixture. Each server gets its
// own config file in a temp directory and listens on 127.0.0.1:0; we wait for
// the "listening on http://HOST:PORT" line on stderr instead of sleeping (it
// comes after one "listener N on URL serves ..." line per listener). The
// server dies with the test process (spawnTied), killed or not.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { spawnTied } from './spawn.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const binaryPath =
  process.env.DAHEIM_LIVE_BIN || path.join(repoRoot, 'build/core/app/daheim-live');
export const testBinaryPath =
  process.env.DAHEIM_LIVE_TEST_BIN || path.join(path.dirname(binaryPath), 'daheim-live-test');

// The plugins the build made ($DAHEIM_PLUGINS_DIR, else build/plugins).
export const pluginsDir = path.resolve(
  process.env.DAHEIM_PLUGINS_DIR || path.join(repoRoot, 'build/plugins'));

// A temp directory for a test file's config files, keys and certificates:
// `file(name, text)` writes one there and returns its path.
export function tempFiles(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const file = (name, text) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  return { dir, file };
}

// The binary that serves `config`.
export function binaryFor(config) {
  return config.testHandler ? testBinaryPath : binaryPath;
}

const READY_TIMEOUT_MS = 15000;
// The server bounds its own shutdown; give it that long before SIGKILL.
const STOP_TIMEOUT_MS = 10000;

// Config used by the tests unless they override a key.
export function defaultConfig() {
  return {
    listen: '127.0.0.1:0',
    log: { level: 'info' },
    engineio: {
      path: '/socket.io/',
      transports: ['polling', 'websocket'],
      pingInterval: 25000,
      pingTimeout: 20000,
      upgradeTimeout: 10000,
      maxPayload: 1000000,
      maxBufferedBytes: 16777216,
      maxHttpHeaderSize: 16384,
      maxConnections: 15000,
      cors: { origin: '*', credentials: false },
      // The e2e areas that run on libwebsockets' HTTP handling set this ("lws").
      ...(process.env.DAHEIM_POLLING_HTTP ? { pollingHttp: process.env.DAHEIM_POLLING_HTTP } : {}),
    },
    testHandler: 'engineio-echo',
    // The e2e areas that run again on another event loop set this.
    ...(process.env.DAHEIM_EVENT_LOOP ? { eventLoop: process.env.DAHEIM_EVENT_LOOP } : {}),
  };
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function merge(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    out[k] = isPlainObject(v) && isPlainObject(base[k]) ? merge(base[k], v) : v;
  }
  return out;
}

const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

// The last `n` lines of `text` (a process's output), or "(none)".
function lastLines(text, n = 20) {
  const lines = text.trimEnd().split('\n');
  return lines.join('').trim() ? lines.slice(-n).join('\n') : '(none)';
}

// How a process ended, for an error message.
function exitStatus(code, signal) {
  if (code === null) return `signal ${signal}`;
  return code === 78 ? 'exit code 78 (EX_CONFIG)' : `exit code ${code}`;
}

// Starts a server. `overrides` is merged into defaultConfig() (a key set to
// undefined is dropped); `listen: null` passes no --listen; `binary` runs
// another executable than binaryFor(config). Rejects promptly, naming the
// binary, how it ended and its last stderr lines, when it cannot be started
// or exits before it is ready. Resolves to
//   { url, port, pid, child, config, listeners, logs(), waitForLog(re, ms), stop(signal), exited }
// where url is e.g. "http://127.0.0.1:40123" (the first listener), listeners
// [{ url, host, port, serves }] every listener in order, and exited resolves to
// { code, signal } when the process ends.
export async function startServer(overrides = {}, { listen = '127.0.0.1:0', binary } = {}) {
  const config = JSON.parse(JSON.stringify(merge(defaultConfig(), overrides)));
  const dir = mkdtempSync(path.join(tmpdir(), 'daheim-e2e-'));
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  const args = ['--config', configFile, ...(listen === null ? [] : ['--listen', listen])];
  const bin = binary ?? binaryFor(config);
  const child = spawnTied(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    stdout += d;
    if (stdout.length > 1 << 20) stdout = stdout.slice(-(1 << 19));
  });

  const exited = new Promise((resolve) => {
    const ended = (code, signal) => {
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal });
    };
    child.on('exit', ended);
    // A binary that never started (missing, not executable) sends no 'exit'.
    child.on('error', () => child.pid === undefined && ended(null, null));
  });

  const logs = () => `--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`;

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${bin} not ready after ${READY_TIMEOUT_MS} ms\n${logs()}`));
    }, READY_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${bin}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' may come before the last of stderr is read: wait for its end.
      const fail = () =>
        reject(new Error(`${bin} exited before ready (${exitStatus(code, signal)}); ` +
          `last stderr lines:\n${lastLines(stderr)}`));
      if (child.stderr.readableEnded) fail();
      else {
        child.stderr.once('end', fail);
        setTimeout(fail, 1000).unref();
      }
    });
    child.stderr.setEncoding('utf8');
    let seen = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
      if (seen) return;
      const m = /listening on (https?):\/\/(\S+):(\d+)/.exec(stderr);
      if (m) {
        seen = true;
        clearTimeout(timer);
        resolve({ scheme: m[1], host: m[2], port: Number(m[3]) });
      }
    });
  });

  let addr;
  try {
    addr = await ready;
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }

  const stop = async (signal = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const r = await exited;
    clearTimeout(t);
    return r;
  };

  // Resolves with the match once stderr holds `re` (a log line), or rejects
  // after `ms`: readiness by log line, never by sleeping.
  const waitForLog = (re, ms = 10000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(stderr);
        if (!m) return;
        clearTimeout(timer);
        child.stderr.off('data', check);
        resolve(m);
      };
      const timer = setTimeout(() => {
        child.stderr.off('data', check);
        reject(new Error(`no log line ${re} after ${ms} ms\n${logs()}`));
      }, ms);
      child.stderr.on('data', check);
      check();
    });

  const host = addr.host.replace(/^\[(.*)\]$/, '$1');
  const listeners = [...stderr.matchAll(/listener (\d+) on ((https?):\/\/(\S+):(\d+)) serves ([^\n]*)/g)].map(
    (l) => ({ url: l[2], host: l[4].replace(/^\[(.*)\]$/, '$1'), port: Number(l[5]), serves: l[6].split(', ') }),
  );
  return {
    url: `${addr.scheme}://${addr.host}:${addr.port}`,
    listeners,
    host,
    port: addr.port,
    pid: child.pid,
    child,
    config,
    configFile,
    logs,
    waitForLog,
    stop,
    exited,
  };
}

// CPU time (user + system) used so far by a process, in seconds.
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 (1-based) of the whole line, i.e.
  // 12 and 13 (1-based) after the name: indexes 11 and 12 here.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / clockTicksPerSecond;
}

// The TCP connections of a server's port, as counts per state read from
// /proc/PID/net/tcp (ESTABLISHED, CLOSE_WAIT, ...): for a failure's message.
export function tcpStates(pid, port) {
  const names = { '01': 'ESTABLISHED', '06': 'TIME_WAIT', '07': 'CLOSE', '08': 'CLOSE_WAIT', '0A': 'LISTEN' };
  const counts = {};
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || parseInt(f[1].split(':')[1], 16) !== port) continue;
    const state = names[f[3]] ?? f[3];
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}

// Resident memory of a process (VmRSS), in bytes.
export function rssBytes(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) * 1024;
}

// sysconf(_SC_CLK_TCK) is 100 on every Linux we run on.
const clockTicksPerSecond = 100;
