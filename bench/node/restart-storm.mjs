// Restart under load (issue 15, BENCHMARKS.md finding 13): CLIENTS
// socket.io-clients (WebSocket, default reconnection backoff) on one
// daheim-live node with connection-state recovery in cluster mode (streams
// adapter, a redis-server of its own), numbered events from the streams
// emitter at RATE per second. The node is stopped (SIGKILL, then in a second
// run SIGTERM) and started again on its port at once; measured: time until
// every client is back with recovered === true, events lost or doubled (each
// client checks 1, 2, 3, ...), Redis memory per 1,000 logged events and per
// session, server CPU per logged event in the steady phase and per recovered
// client in the storm, and the handshake budget's counters.
//
//   node bench/node/restart-storm.mjs [--clients 10000] [--workers 4] [--rate 2]
//        [--signals SIGKILL,SIGTERM] [--handler none|socketio-e2e] [--engineio '{"handshakesPerSecond":2000}']
//        [--cluster '{"recoveryWindowEntries":0}'] [--json FILE]
//
// Runs build/core/app/daheim-live ($DAHEIM_LIVE_BIN) without plugins, or with
// --handler socketio-e2e daheim-live-test ($DAHEIM_LIVE_TEST_BIN) and its
// fixture. Prints a markdown table.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { createClient } from 'redis';

import { scrape } from '../../tests/e2e/lib/metrics.mjs';
import { freePort, startRedis } from '../../tests/e2e/lib/redis.mjs';
import { cpuSeconds, startServer } from '../../tests/e2e/lib/server.mjs';
import { StreamsEmitter } from '../../tests/e2e/lib/streams-emitter.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    clients: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '4' },
    rate: { type: 'string', default: '2' },
    signals: { type: 'string', default: 'SIGKILL,SIGTERM' },
    engineio: { type: 'string', default: '{}' },
    cluster: { type: 'string', default: '{}' },
    steady: { type: 'string', default: '10' },
    handler: { type: 'string', default: 'none' },
    'storm-timeout': { type: 'string', default: '300' },
    json: { type: 'string' },
  },
});
const CLIENTS = Number(opt.clients);
const WORKERS = Number(opt.workers);
const RATE = Number(opt.rate);
const STEADY_S = Number(opt.steady);
const PAD = 'x'.repeat(100); // every event: ["e", n, 100 characters]
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

async function waitFor(what, check, ms) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function nodeConfig(redisUrl, engineio) {
  return {
    // none: daheim-live without plugins (a socket gets only the emitter's
    // events); socketio-e2e: daheim-live-test's fixture, whose sockets get
    // two events of their own at every connect (logged too, with recovery on).
    testHandler: opt.handler === 'none' ? undefined : opt.handler,
    log: { level: 'notice' },
    drainTime: 10000,
    engineio: { maxConnections: CLIENTS + 1000, ...engineio },
    socketio: { connectionStateRecovery: { maxDisconnectionDuration: 120000 } },
    cluster: { redis: redisUrl, adapter: 'streams', maxLen: 100000, ...JSON.parse(opt.cluster) },
  };
}

// The workers' reports, summed.
class Fleet {
  constructor(url) {
    this.reports = [];
    this.children = [];
    const per = Math.ceil(CLIENTS / WORKERS);
    for (let w = 0; w < WORKERS; ++w) {
      const n = Math.min(per, CLIENTS - w * per);
      const child = fork(path.join(here, 'restart-clients.mjs'), [url, String(n)], { stdio: 'inherit' });
      child.on('message', (r) => (this.reports[w] = r));
      this.children.push(child);
    }
  }
  sum() {
    const s = { connected: 0, back: 0, recovered: 0, fresh: 0, gaps: 0, dups: 0, minLast: Infinity,
      lastBackAt: 0, firstBackAt: Infinity };
    for (const r of this.reports) {
      if (!r) return null;
      for (const k of ['connected', 'back', 'recovered', 'fresh', 'gaps', 'dups']) s[k] += r[k];
      s.minLast = Math.min(s.minLast, r.minLast);
      s.lastBackAt = Math.max(s.lastBackAt, r.lastBackAt);
      s.firstBackAt = Math.min(s.firstBackAt, r.firstBackAt);
    }
    return s.connected + s.back === 0 && this.reports.length < WORKERS ? null : s;
  }
  close() {
    for (const c of this.children) c.send('close');
  }
}

async function redisMemory(control) {
  const info = await control.sendCommand(['INFO', 'memory']);
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

// Redis memory per 1,000 logged events of the benchmark's format: 10,000 of
// them XADDed to a scratch stream as the emitter does (the node's stream also
// holds its sockets' join/leave entries).
async function streamBytesPer1000(control) {
  const scratch = new StreamsEmitter(control, { streamName: 'bench-scratch', maxLen: 100000 });
  for (let i = 1; i <= 10000; i += 500)
    await Promise.all(Array.from({ length: 500 }, (_, k) => scratch.emit('e', [i + k, PAD])));
  const bytes = Number(await control.sendCommand(['MEMORY', 'USAGE', 'bench-scratch', 'SAMPLES', '0']));
  await control.sendCommand(['DEL', 'bench-scratch']);
  return bytes / 10;
}

async function runOnce(signal, redis, control) {
  await control.sendCommand(['FLUSHALL']);
  const port = await freePort();
  const engineio = JSON.parse(opt.engineio);
  let node = await startServer(nodeConfig(redis.url, engineio), { listen: `127.0.0.1:${port}` });
  const memEmpty = await redisMemory(control);
  const t0 = Date.now();
  const fleet = new Fleet(node.url);
  await waitFor('every client connected', () => fleet.sum()?.connected === CLIENTS, 600000);
  const connectS = (Date.now() - t0) / 1000;
  const sessions = Number(await control.sendCommand(['DBSIZE']));
  const memSessions = await redisMemory(control);
  log(`${signal}: ${CLIENTS} connected in ${connectS} s; ${sessions} Redis keys`);

  const emitter = new StreamsEmitter(control, { maxLen: 100000 });
  let sent = 0;
  const timer = setInterval(() => emitter.emit('e', [++sent, PAD]).catch(() => {}), 1000 / RATE);
  // Steady phase: server CPU per logged event (each delivered to every client).
  await sleep(1000);
  const cpu0 = cpuSeconds(node.pid);
  const sent0 = sent;
  await sleep(STEADY_S * 1000);
  const steadyCpu = cpuSeconds(node.pid) - cpu0;
  const steadyEvents = sent - sent0;
  const xlen = Number(await control.sendCommand(['XLEN', 'socket.io']));
  const streamBytes = Number(await control.sendCommand(['MEMORY', 'USAGE', 'socket.io', 'SAMPLES', '0']));
  await waitFor('the steady events everywhere', () => fleet.sum().minLast >= sent0 + steadyEvents, 60000);

  log(`${signal}: stopping the node at event ${sent}`);
  const tKill = Date.now();
  await node.stop(signal);
  const tDown = Date.now();
  writeFileSync(`/tmp/restart-storm-${signal}-stopped.log`, node.logs());
  node = await startServer(nodeConfig(redis.url, engineio), { listen: `127.0.0.1:${port}` });
  const tUp = Date.now();
  const cpuStorm0 = cpuSeconds(node.pid);
  const progress = setInterval(() => {
    const f = fleet.sum();
    log(`${signal}: ${f.back} back (${f.recovered} recovered, ${f.fresh} fresh), ${f.connected} connected`);
  }, 5000);
  await waitFor('every client back', () => fleet.sum().back === CLIENTS, Number(opt['storm-timeout']) * 1000).catch((e) => {
    writeFileSync(`/tmp/restart-storm-${signal}.log`, node.logs());
    log(`${e.message}: ${JSON.stringify(fleet.sum())}; server log in /tmp/restart-storm-${signal}.log`);
    throw e;
  }).finally(() => clearInterval(progress));
  const back = fleet.sum();
  const stormCpu = cpuSeconds(node.pid) - cpuStorm0;
  const tAll = back.lastBackAt;
  const budget = await scrape(node.url);
  clearInterval(timer);
  const last = sent;
  await sleep(200);
  await waitFor('the last event everywhere', () => fleet.sum().minLast >= last, 120000).catch((e) => log(e.message));
  const end = fleet.sum();
  fleet.close();
  await node.stop();
  return {
    signal,
    clients: CLIENTS,
    connectS,
    redisKeysSessions: sessions,
    sessionBytes: (memSessions - memEmpty) / CLIENTS,
    steadyEvents,
    steadyCpuUsPerEvent: (steadyCpu / steadyEvents) * 1e6,
    steadyCpuUsPerDelivery: (steadyCpu / (steadyEvents * CLIENTS)) * 1e6,
    streamBytesPer1000: await streamBytesPer1000(control),
    nodeStreamBytesPerEntry: streamBytes / xlen,
    xlen,
    stopS: (tDown - tKill) / 1000,
    restartS: (tUp - tDown) / 1000,
    firstBackAfterUpS: (back.firstBackAt - tUp) / 1000,
    allBackAfterUpS: (tAll - tUp) / 1000,
    allBackAfterStopS: (tAll - tKill) / 1000,
    recovered: end.recovered,
    fresh: end.fresh,
    lost: end.gaps,
    missingAtEnd: end.minLast >= last ? 0 : last - end.minLast,
    dups: end.dups,
    events: last,
    stormCpuS: stormCpu,
    stormCpuMsPerClient: (stormCpu / CLIENTS) * 1000,
    admitted: budget.value('daheim_engineio_handshakes_admitted_total'),
    waited: budget.value('daheim_engineio_handshakes_waited_total'),
    refused: budget.value('daheim_limit_refusals_total', { limit: 'engineio.handshakesPerSecond' }),
    windowHits: budget.value('daheim_recovery_window_hits_total'),
    windowMisses: budget.value('daheim_recovery_window_misses_total'),
    loadavg: loadavg()[0],
  };
}

const redis = await startRedis();
const control = createClient({ url: redis.url });
await control.connect();
const results = [];
try {
  for (const signal of opt.signals.split(',')) {
    results.push(await runOnce(signal, redis, control));
    log(JSON.stringify(results.at(-1)));
  }
} finally {
  await control.quit().catch(() => {});
  await redis.close();
}
if (opt.json) writeFileSync(opt.json, JSON.stringify(results, null, 2));
const f = (v, d = 1) => (typeof v === 'number' ? v.toFixed(d) : String(v));
const rows = [
  ['clients (WebSocket, recovery on, streams adapter)', (r) => r.clients],
  ['connect all (wall)', (r) => `${f(r.connectS)} s`],
  ['Redis memory per session (`sio:session:<pid>`)', (r) => `${f(r.sessionBytes, 0)} B`],
  ['Redis memory per 1,000 logged events (`MEMORY USAGE`, 100-byte payload)', (r) => `${f(r.streamBytesPer1000 / 1024)} KiB`],
  [`steady: server CPU per logged event (delivered to every client, ${RATE}/s)`, (r) => `${f(r.steadyCpuUsPerEvent, 0)} µs`],
  ['steady: server CPU per delivery', (r) => `${f(r.steadyCpuUsPerDelivery, 2)} µs`],
  ['stop (signal to exit)', (r) => `${f(r.stopS, 2)} s`],
  ['start again (to listening)', (r) => `${f(r.restartS, 2)} s`],
  ['first client back after the start', (r) => `${f(r.firstBackAfterUpS, 2)} s`],
  ['**all clients back and recovered, after the start**', (r) => `**${f(r.allBackAfterUpS, 2)} s**`],
  ['all back after the stop signal', (r) => `${f(r.allBackAfterStopS, 2)} s`],
  ['recovered / fresh sessions', (r) => `${r.recovered} / ${r.fresh}`],
  ['**events lost / doubled** (of events sent)', (r) => `**${r.lost + r.missingAtEnd} / ${r.dups}** (${r.events})`],
  ['storm: server CPU (start to all back), per client', (r) => `${f(r.stormCpuS, 2)} s, ${f(r.stormCpuMsPerClient, 3)} ms`],
  ['handshake budget: admitted / waited / refused', (r) => `${r.admitted} / ${r.waited} / ${r.refused}`],
  ['restores from the recovery window / from Redis (XRANGE)', (r) => `${r.windowHits} / ${r.windowMisses}`],
  ['load average (1 min) at the end', (r) => f(r.loadavg, 2)],
];
console.log(`| restart under load | ${results.map((r) => r.signal).join(' | ')} |`);
console.log(`|---|${results.map(() => '---:').join('|')}|`);
for (const [name, get] of rows) console.log(`| ${name} | ${results.map(get).join(' | ')} |`);
