// End-to-end: the limits a public server needs (issue 17), each crossed by a
// real abusive client while a well-behaved neighbour on the same server goes
// on unaffected. The server runs the test plugins (plugins/test): alpha's
// `$add`, `$echo` and `$join` answer the clients.

import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { Manager, Recorder, WS, connected, disconnected, io } from './lib/sio.mjs';
import { scrape } from './lib/metrics.mjs';
import { startServer } from './lib/server.mjs';
import { withTimeout } from './lib/util.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pluginsDir = process.env.DAHEIM_PLUGINS_DIR || path.join(repoRoot, 'build/plugins');

function pluginConfig(extra = {}) {
  return {
    testHandler: undefined,
    pluginDir: path.join(pluginsDir, 'test'),
    plugins: [{ path: 'alpha.so', config: { workers: 2 } }],
    ...extra,
  };
}

async function connect(url, opts = {}) {
  const socket = io(url, { forceNew: true, reconnection: false, autoConnect: false, transports: WS, ...opts });
  const rec = new Recorder(socket);
  const up = connected(socket);
  socket.connect();
  await up;
  await rec.next('welcome');
  return socket;
}

const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 10000, event);
const refusals = (m, limit) => m.value('daheim_limit_refusals_total', { limit });

describe('limits: events per second per socket', () => {
  let srv;
  before(async () => {
    srv = await startServer(pluginConfig({ socketio: { eventsPerSecond: 20, eventBurst: 20, maxRefusedEvents: 60 } }));
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('a flood is answered rate_limited, then disconnected; the neighbour is served throughout', async () => {
    const abuser = await connect(srv.url);
    const neighbour = await connect(srv.url);
    // 40 at once: the burst (20) is served, most of the rest refused.
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => call(abuser, 'add', i, 1)));
    for (let i = 0; i < 20; i++) assert.equal(answers[i], i + 1);
    const limited = answers.filter((a) => a?.error === 'rate_limited').length;
    assert.ok(limited >= 10, `refused ${limited} of 40`);
    for (const a of answers) assert.ok(typeof a === 'number' || a.error === 'rate_limited', JSON.stringify(a));
    // The neighbour, one call every 100 ms (half the limit) while the abuser floods without reading acks.
    const gone = disconnected(abuser, 10000);
    for (let i = 0; i < 500; i++) abuser.emit('add', i, 1);
    const served = [];
    for (let i = 0; i < 5; i++) {
      served.push(await call(neighbour, 'add', i, 100));
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(served, [100, 101, 102, 103, 104]);
    assert.equal(await gone, 'io server disconnect'); // no automatic reconnect
    assert.equal(await call(neighbour, 'add', 1, 1), 2);
    const m = await scrape(srv.url);
    assert.ok(refusals(m, 'socketio.eventsPerSecond') > 60); // maxRefusedEvents, plus what the refill paid back
    assert.equal(refusals(m, 'socketio.maxRefusedEvents'), 1);
    neighbour.disconnect();
  });
});

describe('limits: rooms, namespaces, CONNECT payload', () => {
  let srv;
  before(async () => {
    srv = await startServer(
      pluginConfig({
        socketio: { namespaces: ['/', '/a', '/b'], maxRoomsPerSocket: 3, maxNamespacesPerClient: 2, maxAuthPayload: 1024 },
      }),
    );
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('a socket joins at most maxRoomsPerSocket rooms; its neighbour joins the same ones', async () => {
    const abuser = await connect(srv.url);
    const neighbour = await connect(srv.url);
    const joined = [];
    for (const room of ['r1', 'r2', 'r3', 'r4', 'r5', 'r1']) joined.push(await call(abuser, 'join', room));
    assert.deepEqual(joined, [true, true, true, false, false, true]);
    assert.deepEqual([await call(neighbour, 'join', 'r4'), await call(neighbour, 'join', 'r1')], [true, true]);
    const m = await scrape(srv.url);
    assert.equal(refusals(m, 'socketio.maxRoomsPerSocket'), 2);
    abuser.disconnect();
    neighbour.disconnect();
  });

  it('a client joins at most maxNamespacesPerClient namespaces', async () => {
    const manager = new Manager(srv.url, { reconnection: false, transports: WS, autoConnect: false });
    const sockets = ['/', '/a', '/b'].map((nsp) => manager.socket(nsp));
    await Promise.all(sockets.slice(0, 2).map((s) => { const up = connected(s); s.connect(); return up; }));
    const third = connected(sockets[2]);
    sockets[2].connect();
    await assert.rejects(third, (err) => err.message === 'Too many namespaces');
    const neighbour = io(`${srv.url}/b`, { forceNew: true, reconnection: false, transports: WS });
    await connected(neighbour);
    assert.ok(sockets[0].connected && sockets[1].connected);
    const m = await scrape(srv.url);
    assert.equal(refusals(m, 'socketio.maxNamespacesPerClient'), 1);
    for (const s of sockets) s.disconnect();
    neighbour.disconnect();
  });

  it('a CONNECT payload over maxAuthPayload is refused; a small one connects', async () => {
    const abuser = io(srv.url, { forceNew: true, reconnection: false, transports: WS, auth: { pad: 'x'.repeat(2000) } });
    await assert.rejects(connected(abuser), (err) => err.message === 'Auth payload too large');
    abuser.close();
    const neighbour = await connect(srv.url, { auth: { pad: 'x'.repeat(500) } });
    assert.deepEqual((await call(neighbour, 'whoami')).auth, { pad: 'x'.repeat(500) });
    const m = await scrape(srv.url);
    assert.equal(refusals(m, 'socketio.maxAuthPayload'), 1);
    neighbour.disconnect();
  });
});

describe('limits: JSON linear in the input', () => {
  let srv;
  before(async () => {
    srv = await startServer(pluginConfig({ engineio: { maxPayload: 2000000 } }));
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('a 1 MB object of 100,000 keys through a $-method; the neighbour waits little', async () => {
    const abuser = await connect(srv.url);
    const neighbour = await connect(srv.url);
    const big = {};
    for (let i = 0; i < 100000; i++) big[`key${1000000 + i}`] = 0;
    const text = JSON.stringify(big);
    assert.ok(text.length >= 1000000, `${text.length} bytes`);
    const started = performance.now();
    const echoed = call(abuser, 'echo', big);
    const pong = call(neighbour, 'add', 2, 3);
    const answer = await echoed;
    const ms = performance.now() - started;
    assert.equal(await pong, 5);
    console.log(`$echo of a ${text.length}-byte object with 100000 keys: ${ms.toFixed(0)} ms round trip`);
    assert.equal(Object.keys(answer).length, 100000);
    assert.equal(answer.key1099999, 0);
    assert.ok(ms < 5000, `${ms} ms`); // linear: well under a second; the quadratic check took seconds more
    abuser.disconnect();
    neighbour.disconnect();
  });
});
