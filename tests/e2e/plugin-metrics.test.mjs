// End-to-end: the plugin host's families in /metrics, and the per-socket
// cap on pending calls (pluginHost.maxPendingCallsPerSocket). socket.io-client
// against the real binary with the test plugins (plugins/test/alpha.cpp and
// beta.cpp); every scrape is checked as Prometheus text 0.0.4.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { scrape } from './lib/metrics.mjs';
import { Recorder, WS, connected, io } from './lib/sio.mjs';
import { binaryPath, pluginsDir, startServer } from './lib/server.mjs';
import { withTimeout } from './lib/util.mjs';

const CALLS = 'daheim_plugin_calls_total';
const LATENCY = 'daheim_plugin_call_duration_seconds';
const PENDING = 'daheim_plugin_calls_pending';

function pluginConfig(extra = {}) {
  return {
    testHandler: undefined,
    pluginDir: path.join(pluginsDir, 'test'),
    plugins: [{ path: 'alpha.so', config: { workers: 2 } }, { path: 'beta.so' }],
    ...extra,
  };
}

async function connect(url) {
  const socket = io(url, { forceNew: true, reconnection: false, autoConnect: false, transports: WS });
  const rec = new Recorder(socket);
  const up = connected(socket);
  socket.connect();
  await up;
  await rec.next('beta-hello'); // both plugins' onConnect have run
  return socket;
}

const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 5000, event);

// Polls /metrics until `ready(m)` holds.
async function scrapeUntil(url, ready, what, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = await scrape(url);
    if (ready(m)) return m;
    if (Date.now() > deadline) assert.fail(`no ${what} in /metrics within ${ms} ms:\n${m.text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const calls = (m, plugin, method, outcome) => m.value(CALLS, { plugin, method, outcome });
const latency = (m, plugin, method) => m.histogram(LATENCY, { plugin, method });

describe('plugin metrics: calls by outcome, latency, pending, hooks', () => {
  let srv;
  let socket;
  before(async () => {
    srv = await startServer(pluginConfig());
    socket = await connect(srv.url);
  });
  after(async () => {
    socket?.disconnect();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('every registered method has every series, zeros included, before any call', async () => {
    const m = await scrape(srv.url);
    for (const outcome of ['ok', 'error', 'overloaded', 'dropped', 'timeout']) {
      assert.equal(calls(m, 'alpha', '$stats', outcome), 0);
      assert.equal(calls(m, 'beta', '$ping', outcome), 0);
    }
    const h = latency(m, 'beta', '$sumLater');
    assert.equal(h.count, 0);
    assert.equal(h.buckets.size, 18);
    assert.equal(m.value(PENDING, { plugin: 'alpha', method: '$hold' }), 0);
    assert.equal(m.families[CALLS].type, 'COUNTER');
    assert.equal(m.families[LATENCY].type, 'HISTOGRAM');
    assert.equal(m.families[PENDING].type, 'GAUGE');
  });

  it('N synchronous calls count exactly N ok and N latency observations', async () => {
    const N = 25;
    const before = await scrape(srv.url);
    for (let i = 0; i < N; i++) assert.equal(await call(socket, 'add', i, 1), i + 1);
    for (let i = 0; i < 3; i++) assert.equal(await call(socket, 'ping'), 'pong');
    const m = await scrape(srv.url);
    assert.equal(calls(m, 'alpha', '$add', 'ok') - calls(before, 'alpha', '$add', 'ok'), N);
    assert.equal(calls(m, 'alpha', '$add', 'error'), calls(before, 'alpha', '$add', 'error'));
    assert.equal(calls(m, 'beta', '$ping', 'ok') - calls(before, 'beta', '$ping', 'ok'), 3);
    const h = latency(m, 'alpha', '$add');
    assert.equal(h.count - latency(before, 'alpha', '$add').count, N);
    assert.equal(h.buckets.get('+Inf'), h.count);
    assert.ok(h.sum > 0 && h.sum < N * 0.5, `sum ${h.sum}`);
  });

  it('coded errors, failing workers and unhandled events show up under their outcome', async () => {
    const before = await scrape(srv.url);
    assert.deepEqual(await call(socket, 'fail', 'nope'), { error: 'nope' });
    assert.deepEqual(await call(socket, 'add', 'x', 1), { error: 'badRequest' });
    assert.deepEqual(await call(socket, 'slowFail', 'denied'), { error: 'denied' });
    assert.deepEqual(await call(socket, 'slowFail', ''), { error: 'internalServerError' });
    assert.deepEqual(await call(socket, 'noSuchMethod'), { error: 'unhandled' });
    assert.deepEqual(await call(socket, 'noSuchMethod'), { error: 'unhandled' });
    const m = await scrape(srv.url);
    const delta = (plugin, method, outcome) =>
      calls(m, plugin, method, outcome) - calls(before, plugin, method, outcome);
    assert.equal(delta('alpha', '$fail', 'error'), 1);
    assert.equal(delta('alpha', '$fail', 'ok'), 0);
    assert.equal(delta('alpha', '$add', 'error'), 1);
    assert.equal(delta('alpha', '$add', 'ok'), 0);
    assert.equal(delta('alpha', '$slowFail', 'error'), 2);
    const unhandled = 'daheim_plugin_unhandled_events_total';
    assert.equal(m.value(unhandled) - before.value(unhandled), 2);
    assert.equal(latency(m, 'alpha', '$slowFail').count - latency(before, 'alpha', '$slowFail').count, 2);
  });

  it('a deferred call is pending until answered and timed to its answer', async () => {
    const before = await scrape(srv.url);
    const answer = call(socket, 'hold', 300, 'held');
    const during = await scrapeUntil(srv.url, (m) => m.value(PENDING, { plugin: 'alpha', method: '$hold' }) === 1, 'pending $hold');
    assert.equal(calls(during, 'alpha', '$hold', 'ok'), calls(before, 'alpha', '$hold', 'ok'));
    assert.equal(await answer, 'held');
    const m = await scrape(srv.url);
    assert.equal(m.value(PENDING, { plugin: 'alpha', method: '$hold' }), 0);
    assert.equal(calls(m, 'alpha', '$hold', 'ok') - calls(before, 'alpha', '$hold', 'ok'), 1);
    const h = latency(m, 'alpha', '$hold');
    const b = latency(before, 'alpha', '$hold');
    assert.equal(h.count - b.count, 1);
    assert.ok(h.sum - b.sum >= 0.3, `held 300 ms, timed ${h.sum - b.sum} s`);
    assert.equal(h.buckets.get('0.25') - b.buckets.get('0.25'), 0);
    assert.equal(h.buckets.get('+Inf') - b.buckets.get('+Inf'), 1);
  });

  it('an answer for a socket that has left counts as dropped; hooks are counted', async () => {
    const before = await scrape(srv.url);
    const other = await connect(srv.url);
    other.emit('hold', 200, 'late', () => {});
    await scrapeUntil(srv.url, (m) => m.value(PENDING, { plugin: 'alpha', method: '$hold' }) === 1, 'pending $hold');
    other.disconnect();
    const m = await scrapeUntil(srv.url, (x) => calls(x, 'alpha', '$hold', 'dropped') > calls(before, 'alpha', '$hold', 'dropped'), 'dropped $hold');
    assert.equal(calls(m, 'alpha', '$hold', 'dropped') - calls(before, 'alpha', '$hold', 'dropped'), 1);
    assert.equal(calls(m, 'alpha', '$hold', 'ok'), calls(before, 'alpha', '$hold', 'ok'));
    assert.equal(m.value(PENDING, { plugin: 'alpha', method: '$hold' }), 0);
    const hooks = (x, plugin, hook) => x.value('daheim_plugin_hooks_total', { plugin, hook });
    for (const plugin of ['alpha', 'beta']) {
      assert.equal(hooks(m, plugin, 'connect') - hooks(before, plugin, 'connect'), 1);
      assert.equal(hooks(m, plugin, 'disconnect') - hooks(before, plugin, 'disconnect'), 1);
    }
  });
});

describe('pluginHost.maxPendingCallsPerSocket', () => {
  let srv;
  const sockets = [];
  before(async () => {
    srv = await startServer(pluginConfig({ pluginHost: { maxPendingCallsPerSocket: 4 } }));
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('calls beyond the cap are answered overloaded without reaching the plugin, and counted', async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    sockets.push(a, b);
    const answers = [];
    const held = [];
    for (let i = 0; i < 7; i++) {
      held.push(call(a, 'hold', 800, i).then((v) => answers.push([i, v])));
    }
    // The three beyond the cap are answered at once, before any held one.
    await scrapeUntil(srv.url, () => answers.length === 3, 'three overloaded answers');
    assert.deepEqual(answers, [4, 5, 6].map((i) => [i, { error: 'overloaded' }]));
    const m = await scrape(srv.url);
    assert.equal(calls(m, 'alpha', '$hold', 'overloaded'), 3);
    assert.equal(m.value(PENDING, { plugin: 'alpha', method: '$hold' }), 4);
    // The cap is per socket: another socket's calls still reach the plugin.
    assert.equal(await call(b, 'hold', 10, 'b'), 'b');
    // At the cap every method of that socket is refused, synchronous ones too.
    assert.deepEqual(await call(a, 'add', 1, 2), { error: 'overloaded' });
    assert.equal(calls(await scrape(srv.url), 'alpha', '$add', 'overloaded'), 1);
    await Promise.all(held);
    assert.deepEqual(answers.slice(3).sort(), [0, 1, 2, 3].map((i) => [i, i]));
    const end = await scrape(srv.url);
    assert.equal(calls(end, 'alpha', '$hold', 'ok'), 5);
    assert.equal(calls(end, 'alpha', '$hold', 'overloaded'), 3);
    assert.equal(latency(end, 'alpha', '$hold').count, 5);
    assert.equal(end.value(PENDING, { plugin: 'alpha', method: '$hold' }), 0);
    // With the held calls answered the socket may call again.
    assert.equal(await call(a, 'add', 1, 2), 3);
    assert.equal(await call(a, 'hold', 10, 'again'), 'again');
  });

  it('a bad value exits 78 naming the file and the key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'daheim-cap-'));
    for (const bad of ['0', '-4', '2.5', '"4"', '1048577']) {
      const file = path.join(dir, 'config.json');
      writeFileSync(file, `{ "pluginHost": { "maxPendingCallsPerSocket": ${bad} } }`);
      const r = spawnSync(binaryPath, ['--config', file], { encoding: 'utf8' });
      assert.equal(r.status, 78, bad);
      assert.equal(
        r.stderr.trim(),
        `daheim-live: config error: ${file}: key pluginHost.maxPendingCallsPerSocket: expected an integer from 1 to 1048576`,
      );
    }
  });
});
