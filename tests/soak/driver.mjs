// Soak driver (scripts/soak.sh; not part of CI): churn against one daheim-live built with ASan.
//
// Starts the server (the binary in $DAHEIM_LIVE_BIN) with the "alpha" test plugin and JWT auth,
// warms it up, measures the baseline (RSS, live heap, open fds, Engine.IO sessions, Socket.IO
// sockets, pending plugin calls) once the warm-up clients have left, then runs $SOAK_CLIENTS
// concurrent clients for $SOAK_MINUTES, in rounds of $SOAK_ROUND_MINUTES, each looping over a mix of:
//   ws, polling, upgrade   socket.io-client over that transport: an ack'ed echo, a call answered by
//                          a plugin worker thread, one answered by the plugin's holder thread, a
//                          room join and a broadcast to it (received back), then a disconnect;
//   auth-fail              a forged token: connect_error "unauthorized" / invalid_signature;
//   vanish-ws              raw WebSocket: CONNECT, a deferred call, then the TCP socket destroyed
//                          before the answer;
//   vanish-polling         raw polling: handshake, CONNECT, a held GET and a deferred call, then
//                          the GET's socket destroyed, and a POST cut off half-way.
// After each round every client leaves; once the server reports no sessions an idle point is taken,
// the last one being the end. Pass: the live heap (daheim_heap_allocated_bytes) and RSS within 5 %
// of the baseline, fds and sessions at the baseline, no pending plugin calls, every operation
// answered as expected, no sanitizer report in the server's log, and a clean exit (status 0) on
// SIGTERM. Prints one line per sample and a summary; exits 1 on failure. SOAK_HEAP_PROFILE=1 adds
// heap profiles at the idle points (below).
import assert from 'node:assert/strict';
import { appendFileSync, createWriteStream, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

import { spawnTied } from '../e2e/lib/spawn.mjs';

const bin = process.env.DAHEIM_LIVE_BIN;
const pluginsDir = process.env.DAHEIM_PLUGINS_DIR;
const minutes = Number(process.env.SOAK_MINUTES || 15);
const warmupSeconds = Number(process.env.SOAK_WARMUP_SECONDS || 300);
const clients = Number(process.env.SOAK_CLIENTS || 16);
const sampleSeconds = Number(process.env.SOAK_SAMPLE_SECONDS || 60);
const roundMinutes = Number(process.env.SOAK_ROUND_MINUTES || 10);
// SOAK_HEAP_PROFILE=1: at the baseline and at each idle point, ASan's heap profile (every live
// chunk by allocation stack) into heap-<point>.txt beside the server's log, for
// tests/soak/heap_diff.py; taken while the clients are away.
const heapProfile = process.env.SOAK_HEAP_PROFILE === '1';
const tolerance = 0.05; // for RSS and for the live heap, end against the baseline
const TIMEOUT_MS = 20000;

const dir = mkdtempSync(path.join(tmpdir(), 'daheim-soak-'));
const secret = crypto.randomBytes(32).toString('hex');
writeFileSync(path.join(dir, 'hs.key'), secret);
const logFile = path.join(dir, 'server.log');
// Every sample as one JSON line (phase, seconds since start, the figures), for plotting.
const samplesFile = path.join(dir, 'samples.jsonl');
const t0 = Date.now();
const record = (label, s) =>
  appendFileSync(samplesFile, JSON.stringify({ phase: label, t: Math.round((Date.now() - t0) / 1000), ...s }) + '\n');

const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withTimeout = (p, what, ms = TIMEOUT_MS) =>
  Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`${what}: no answer in ${ms} ms`)))]);

// ---- the server ---------------------------------------------------------------------------

function startServer() {
  const config = {
    listen: '127.0.0.1:0',
    log: { level: 'notice' },
    engineio: { pingInterval: 5000, pingTimeout: 5000, upgradeTimeout: 5000 },
    auth: {
      hmacSecretFiles: [{ path: path.join(dir, 'hs.key'), alg: 'HS256', kid: '' }],
      audiences: ['realtime'],
      maxFailures: 1 << 30,
      failureWindow: 1,
    },
    pluginDir: path.join(pluginsDir, 'test'),
    plugins: [{ path: 'alpha.so', config: { workers: 4 } }],
  };
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const out = createWriteStream(logFile);
  const child = spawnTied(bin, ['--config', path.join(dir, 'config.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  let text = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      out.write(d);
      if (text !== null) {
        text += d;
        const m = /listening on (http:\/\/\S+:\d+)/.exec(text);
        if (m) {
          text = null;
          resolve(m[1]);
        }
      }
    });
    exited.then((r) => reject(new Error(`daheim-live exited before ready: ${JSON.stringify(r)}`)));
    setTimeout(() => reject(new Error('daheim-live not ready after 60 s')), 60000);
  });
  return { child, exited, ready };
}

function get(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

async function metrics(url) {
  const text = await get(`${url}/metrics`);
  const sum = (name) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return {
    sessions: sum('daheim_engineio_sessions'),
    sockets: sum('daheim_socketio_sockets'),
    pending: sum('daheim_plugin_calls_pending'),
    rateUsers: sum('daheim_auth_connect_rate_users'), // users the CONNECT rate limit still tracks
    heapKb: sum('daheim_heap_allocated_bytes') / 1024,
    heapFreeKb: sum('daheim_heap_free_bytes') / 1024,
    heapMappedKb: sum('daheim_heap_mapped_bytes') / 1024,
    allocator: /^daheim_heap_allocated_bytes\{allocator="(\w+)"\}/m.exec(text)?.[1],
  };
}

async function sample(url, pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  return { rssKb, fds, ...(await metrics(url)) };
}

const mib = (kb) => (kb / 1024).toFixed(1);
const show = (s) =>
  `rss ${mib(s.rssKb)} MiB, heap ${mib(s.heapKb)} MiB (free ${mib(s.heapFreeKb)}, mapped ${mib(s.heapMappedKb)}), fds ${s.fds}, sessions ${s.sessions}, sockets ${s.sockets}, pending calls ${s.pending}, rate users ${s.rateUsers}`;

// ---- the clients ---------------------------------------------------------------------------

const token = (sub) => jwt.sign({ sub, aud: 'realtime' }, secret, { algorithm: 'HS256', expiresIn: '2h' });
const forged = () => jwt.sign({ sub: 'mallory', aud: 'realtime' }, 'not-the-secret-0123456789abcdef', { algorithm: 'HS256' });

function connect(url, transports, authToken) {
  const socket = io(url, { forceNew: true, reconnection: false, transports, auth: { token: authToken }, timeout: TIMEOUT_MS });
  const up = new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return { socket, up: withTimeout(up, 'connect') };
}

async function sioRound(url, transports, n) {
  const { socket, up } = connect(url, transports, token(`user${n % 50}`));
  try {
    await up;
    if (transports.length === 2)
      await withTimeout(new Promise((r) => (socket.io.engine.transport.name === 'websocket' ? r() : socket.io.engine.once('upgrade', r))), 'upgrade');
    const ack = (...args) => withTimeout(socket.emitWithAck(...args), args[0]);
    assert.deepEqual(await ack('echo', { n, s: 'x'.repeat(n % 200) }), { n, s: 'x'.repeat(n % 200) });
    assert.equal(await ack('slow', 5, `slow${n}`), `slow${n}`);
    assert.equal(await ack('hold', 5, `hold${n}`), `hold${n}`);
    const room = `room${n % 8}`;
    assert.equal(await ack('join', room), true);
    const news = new Promise((resolve) => {
      const on = (payload) => payload?.n === n && (socket.off('news', on), resolve());
      socket.on('news', on);
    });
    assert.equal(await ack('toRoom', room, 'news', { n }), true);
    await withTimeout(news, 'broadcast');
  } finally {
    socket.disconnect();
  }
}

async function authFail(url) {
  const { socket, up } = connect(url, ['websocket'], forged());
  try {
    await assert.rejects(up, (err) => err.message === 'unauthorized' && err.data?.code === 'invalid_signature');
  } finally {
    socket.disconnect();
  }
}

function wsUrl(url, query) {
  return `${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket&${new URLSearchParams(query)}`;
}

async function vanishWs(url, n) {
  const ws = new WebSocket(wsUrl(url, { access_token: token(`v${n}`) }));
  const frames = [];
  let wake = () => {};
  ws.on('message', (d) => {
    frames.push(d.toString());
    wake();
  });
  const next = (pred, what) =>
    withTimeout(
      new Promise((resolve) => {
        const check = () => {
          const i = frames.findIndex(pred);
          if (i >= 0) resolve(frames.splice(i, 1)[0]);
          else wake = check;
        };
        check();
      }),
      what,
    );
  try {
    await withTimeout(new Promise((r, j) => (ws.once('open', r), ws.once('error', j))), 'ws open');
    await next((f) => f.startsWith('0'), 'open packet');
    ws.send('40');
    await next((f) => f.startsWith('40'), 'CONNECT answer');
    ws.send(`421["slow",1,"gone${n}"]`);
    ws.send(`422["hold",30,"gone${n}"]`);
  } finally {
    ws._socket?.destroy(); // no close frame: the peer just vanishes
    ws.terminate();
  }
}

// Resolves with { status, text }; with `hold` or `cut` at once with { req } (the caller destroys
// it): `cut` sends half the announced body.
function httpRequest(url, { method = 'GET', body, cut = false, hold = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) * (cut ? 2 : 1) } : {} });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    if (cut) {
      req.write(body);
      setTimeout(() => req.destroy(), 20);
      resolve({ req });
      return;
    }
    if (body) req.write(body);
    req.end();
    if (hold) resolve({ req });
  });
}

async function vanishPolling(url, n) {
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  const open = await withTimeout(httpRequest(`${base}&access_token=${token(`p${n}`)}`), 'handshake');
  assert.equal(open.status, 200);
  const sid = JSON.parse(open.text.slice(1)).sid;
  const q = `${base}&sid=${sid}`;
  assert.equal((await withTimeout(httpRequest(q, { method: 'POST', body: '40' }), 'CONNECT')).status, 200);
  const answer = await withTimeout(httpRequest(q), 'CONNECT answer');
  assert.match(answer.text, /^40\{"sid":/);
  const held = await httpRequest(q, { hold: true }); // held until there is something to send
  assert.equal((await withTimeout(httpRequest(q, { method: 'POST', body: `421["hold",50,"gone${n}"]` }), 'POST call')).status, 200);
  held.req.destroy(); // the held GET vanishes before the answer
  await httpRequest(q, { method: 'POST', body: `422["echo","cut${n}"]`, cut: true });
}

const KINDS = ['ws', 'polling', 'upgrade', 'auth-fail', 'ws', 'vanish-ws', 'upgrade', 'vanish-polling'];

async function churn(url, worker, until, counts) {
  for (let k = 0, i = worker; Date.now() < until; ++k, i += clients) {
    const kind = KINDS[(worker + k) % KINDS.length];
    try {
      if (kind === 'ws') await sioRound(url, ['websocket'], i);
      else if (kind === 'polling') await sioRound(url, ['polling'], i);
      else if (kind === 'upgrade') await sioRound(url, ['polling', 'websocket'], i);
      else if (kind === 'auth-fail') await authFail(url);
      else if (kind === 'vanish-ws') await vanishWs(url, i);
      else await vanishPolling(url, i);
      counts.ok[kind] = (counts.ok[kind] || 0) + 1;
    } catch (err) {
      counts.failed[kind] = (counts.failed[kind] || 0) + 1;
      if (counts.errors.length < 20) counts.errors.push(`${kind}: ${err.message}`);
    }
  }
}

async function phase(url, seconds, pid, label) {
  const counts = { ok: {}, failed: {}, errors: [] };
  const until = Date.now() + seconds * 1000;
  const ticker = setInterval(async () => {
    try {
      const s = await sample(url, pid);
      record(label, s);
      log(`${label}: ${show(s)}`);
    } catch (err) {
      log(`${label}: sample failed: ${err.message}`);
    }
  }, sampleSeconds * 1000);
  await Promise.all(Array.from({ length: clients }, (_, w) => churn(url, w, until, counts)));
  clearInterval(ticker);
  return counts;
}

// Waits until the vanished clients' sessions are reaped (ping timeout), calls have drained and the
// CONNECT rate limit has forgotten every user (two refill times after the last CONNECT).
// While waiting it asks /healthz (a few bytes) and /proc: /metrics is about 40 KB of text built
// anew each time, and under ASan's quarantine scraping it every second alone grows the allocator's
// footprint by megabytes (README, "Soak").
async function settle(url, pid, baseline) {
  const deadline = Date.now() + 120000;
  const fds = () => readdirSync(`/proc/${pid}/fd`).length;
  const sessions = async () => JSON.parse(await get(`${url}/healthz`)).sessions;
  let s = null;
  while (Date.now() < deadline) {
    if ((await sessions()) <= baseline.sessions && fds() <= baseline.fds) {
      s = await sample(url, pid);
      if (s.sessions <= baseline.sessions && s.pending === 0 && s.fds <= baseline.fds && s.rateUsers === 0) break;
    }
    await sleep(s ? 5000 : 1000);
  }
  await sleep(10000); // lets the allocator hand freed memory back
  return sample(url, pid);
}

// Has the server print ASan's heap profile (SIGUSR2, README "Soak") and copies that part of its
// log to heap-<label>.txt.
async function writeHeapProfile(pid, label) {
  const from = statSync(logFile).size;
  const text = () => readFileSync(logFile).subarray(from).toString('utf8');
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120000;
  while (!text().includes('heap profile: end')) {
    if (Date.now() > deadline) throw new Error('no heap profile in 120 s');
    await sleep(500);
  }
  const file = path.join(dir, `heap-${label}.txt`);
  writeFileSync(file, text());
  log(`heap profile: ${file}`);
}

// ---- main ---------------------------------------------------------------------------------

const server = startServer();
const url = await server.ready;
const pid = server.child.pid;
log(`daheim-live (pid ${pid}) on ${url}; log ${logFile}; ${clients} clients, ${minutes} min`);
log(`start: ${show(await sample(url, pid))}`);

const warm = await phase(url, warmupSeconds, pid, 'warm-up');
const zero = { sessions: 0, pending: 0, fds: Infinity };
const baseline = await settle(url, pid, zero);
record('baseline', baseline);
log(`baseline (after ${warmupSeconds} s of warm-up, clients gone): ${show(baseline)}`);
if (heapProfile) await writeHeapProfile(pid, 'baseline');

// The run in rounds of roundMinutes; after each, every client leaves and the figures are taken
// again once the server has settled: points at equal load (none), comparable with the baseline.
const run = { ok: {}, failed: {}, errors: [] };
const idle = [];
for (let done = 0; done < minutes; ) {
  const length = Math.min(roundMinutes, minutes - done);
  const counts = await phase(url, length * 60, pid, 'soak');
  for (const k of ['ok', 'failed'])
    for (const [kind, n] of Object.entries(counts[k])) run[k][kind] = (run[k][kind] || 0) + n;
  run.errors.push(...counts.errors.slice(0, 20 - run.errors.length));
  done += length;
  const s = await settle(url, pid, baseline);
  record('idle', s);
  idle.push(s);
  log(`idle after ${done} min (clients gone): ${show(s)}`);
  if (heapProfile) await writeHeapProfile(pid, `idle-${done}min`);
}
const end = idle.at(-1);
log(`end (clients gone): ${show(end)}`);

const stopped = new Promise((r) => setTimeout(r, 15000));
server.child.kill('SIGTERM');
const exit = await Promise.race([server.exited, stopped.then(() => 'no exit in 15 s')]);
const serverLog = readFileSync(logFile, 'utf8');
const reports = serverLog
  .split('\n')
  .filter((l) => /ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer/.test(l));

const total = (c) => Object.values(c).reduce((a, b) => a + b, 0);
log(`operations: ${JSON.stringify(run.ok)} ok, ${total(run.failed)} failed ${JSON.stringify(run.failed)}`);
for (const e of [...warm.errors, ...run.errors]) log(`  error: ${e}`);
// ASan's quarantine keeps freed chunks unusable for a while; its footprint grows towards a ceiling
// for a long time (README, "Soak"), so with it on only the live heap tells a leak.
const quarantineOff = /(^|:)quarantine_size_mb=0(:|$)/.test(process.env.ASAN_OPTIONS || '');
// A heap profile loads the symbol tables into the server (about 140 MB of RSS).
const rssJudged = (baseline.allocator !== 'asan' || quarantineOff) && !heapProfile;
const pct = (a, b) => `${((b / a - 1) * 100).toFixed(2)} %`;
const within = (a, b) => Math.abs(b / a - 1) <= tolerance;
log(`idle points (RSS KiB / live heap B): ${[baseline, ...idle].map((s) => `${s.rssKb} / ${Math.round(s.heapKb * 1024)}`).join(', ')}`);
const checks = [
  [`live heap within ${tolerance * 100} % of the baseline (${Math.round(baseline.heapKb * 1024)} -> ${Math.round(end.heapKb * 1024)} B, ${pct(baseline.heapKb, end.heapKb)})`,
    baseline.heapKb > 0 && within(baseline.heapKb, end.heapKb)],
  [`RSS within ${tolerance * 100} % of the baseline (${baseline.rssKb} -> ${end.rssKb} KiB, ${pct(baseline.rssKb, end.rssKb)})${rssJudged ? '' : heapProfile ? ' (not judged: heap profiles taken)' : ' (not judged: ASan quarantine on)'}`,
    !rssJudged || within(baseline.rssKb, end.rssKb)],
  [`fds at the baseline (${baseline.fds} -> ${end.fds})`, end.fds <= baseline.fds],
  [`sessions at the baseline (${baseline.sessions} -> ${end.sessions}, sockets ${end.sockets})`, end.sessions <= baseline.sessions && end.sockets === 0],
  [`no pending plugin calls (${end.pending})`, end.pending === 0],
  [`every operation answered as expected (${total(run.ok)} ok, ${total(run.failed) + total(warm.failed)} failed)`, total(run.failed) + total(warm.failed) === 0 && total(run.ok) > 0],
  [`no sanitizer report (${reports.length} lines)`, reports.length === 0],
  [`clean exit on SIGTERM (${JSON.stringify(exit)})`, exit?.code === 0],
];
for (const l of reports.slice(0, 20)) log(`  ${l}`);
for (const [what, ok] of checks) log(`${ok ? 'PASS' : 'FAIL'} ${what}`);
const pass = checks.every(([, ok]) => ok);
log(pass ? 'soak: PASS' : `soak: FAIL (server log kept in ${logFile})`);
process.exit(pass ? 0 : 1);
