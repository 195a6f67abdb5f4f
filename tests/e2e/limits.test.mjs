// End-to-end: the limits a public server needs (issue 17), each crossed by a
// real abusive client while a well-behaved neighbour on the same server goes
// on unaffected. The server runs the test plugins (plugins/test): alpha's
// `$add`, `$echo` and `$join` answer the clients.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Manager, Recorder, WS, connected, disconnected, io } from './lib/sio.mjs';
import { scrape } from './lib/metrics.mjs';
import { spawnSync } from 'node:child_process';

import { binaryPath, pluginsDir, startServer } from './lib/server.mjs';

const startServerQuick = startServer;
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';

import { hmacSecret, withTimeout } from './lib/util.mjs';


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

// Waits until alpha has `n` deferred calls of `method` pending (per /metrics).
async function pendingCalls(url, method, n) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const m = await scrape(url);
    if (m.value('daheim_plugin_calls_pending', { plugin: 'alpha', method }) === n) return;
    assert.ok(Date.now() < deadline, `${n} pending calls of ${method}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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

  it('a plugin asking for an HTTP route after start-up is refused (DHL_ERR_REFUSED)', async () => {
    const socket = await connect(srv.url);
    assert.equal(await call(socket, 'lateRoute', '/late'), -3);
    assert.equal((await fetch(`${srv.url}/late`)).status, 404);
    socket.disconnect();
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

describe('limits: deferred plugin calls', () => {
  let srv;
  before(async () => {
    srv = await startServer(
      pluginConfig({
        plugins: [{ path: 'alpha.so', config: { workers: 1, maxQueued: 2 } }],
        pluginHost: { callTimeout: 1500, maxPendingCalls: 3, maxPendingCallsPerSocket: 2 },
      }),
    );
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('a call the plugin never answers in time is answered timeout', async () => {
    const abuser = await connect(srv.url);
    const neighbour = await connect(srv.url);
    const started = Date.now();
    const held = call(abuser, 'hold', 4000, 'late');
    assert.equal(await call(neighbour, 'hold', 100, 'in time'), 'in time');
    assert.deepEqual(await held, { error: 'timeout' });
    const took = Date.now() - started;
    assert.ok(took >= 1450 && took < 3500, `${took} ms`);
    await new Promise((r) => setTimeout(r, 4000 - took + 200)); // the plugin's late answer is dropped
    assert.equal(await call(abuser, 'add', 2, 2), 4);
    const m = await scrape(srv.url);
    assert.equal(m.value('daheim_plugin_calls_total', { plugin: 'alpha', method: '$hold', outcome: 'timeout' }), 1);
    // The neighbour's call; the abuser's late answer was refused (DHL_ERR_DONE), not counted.
    assert.equal(m.value('daheim_plugin_calls_total', { plugin: 'alpha', method: '$hold', outcome: 'ok' }), 1);
    abuser.disconnect();
    neighbour.disconnect();
  });

  it('one socket cannot fill the server-wide pluginHost.maxPendingCalls; the server holds no more', async () => {
    const abuser = await connect(srv.url);
    const neighbour = await connect(srv.url);
    const third = await connect(srv.url);
    const held = [1, 2, 3].map((i) => call(abuser, 'hold', 1000, i));
    await pendingCalls(srv.url, '$hold', 2); // the third: over maxPendingCallsPerSocket (2)
    const mine = call(neighbour, 'hold', 300, 'n');
    await pendingCalls(srv.url, '$hold', 3);
    assert.deepEqual(await call(third, 'hold', 100, 't'), { error: 'overloaded' }); // server-wide: 3
    assert.equal(await mine, 'n');
    assert.deepEqual(await Promise.all(held), [1, 2, { error: 'overloaded' }]);
    assert.equal(await call(third, 'hold', 10, 't'), 't');
    for (const s of [abuser, neighbour, third]) s.disconnect();
  });
});

describe('limits: WorkerPool queue', () => {
  let srv;
  before(async () => {
    srv = await startServer(pluginConfig({ plugins: [{ path: 'alpha.so', config: { workers: 1, maxQueued: 2 } }] }));
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('a WorkerPool queues at most maxQueued jobs; beyond, overloaded at once', async () => {
    const abuser = await connect(srv.url);
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => call(abuser, 'slow', 150, i)));
    const overloaded = answers.filter((a) => a?.error === 'overloaded').length;
    const done = answers.filter((a) => typeof a === 'number');
    assert.equal(overloaded + done.length, 6, JSON.stringify(answers));
    assert.ok(overloaded >= 3 && done.length >= 2, JSON.stringify(answers)); // 1 running + 2 queued at most
    assert.equal(await call(abuser, 'slow', 10, 7), 7);
    abuser.disconnect();
  });
});

// A raw HTTP/1.1 request; resolves with what came back when the server closed
// the connection ({ text, closedAfterMs }).
function rawRequest(port, headers) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, closedAfterMs: Date.now() - started }));
    socket.write(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`);
  });
}

describe('limits: engineio.maxHttpHeaderSize (16 KiB)', () => {
  let srv;
  const secret = hmacSecret(32);
  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'daheim-limits-'));
    writeFileSync(path.join(dir, 'hs.key'), secret);
    srv = await startServer(
      pluginConfig({
        engineio: { maxHttpHeaderSize: undefined },
        auth: { hmacSecretFiles: [{ path: path.join(dir, 'hs.key'), alg: 'HS256', kid: '' }] },
      }),
    );
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('an 8 KiB access_token in the query string connects, over polling and WebSocket', async () => {
    const token = jwt.sign({ sub: 'big', pad: 'p'.repeat(6000) }, secret, { algorithm: 'HS256', expiresIn: '1h' });
    assert.ok(token.length > 8000 && token.length <= 8192, `${token.length} characters`); // auth.maxTokenSize: 8192
    for (const transports of [['polling'], WS]) {
      const socket = await connect(srv.url, { transports, query: { access_token: token } });
      assert.equal((await call(socket, 'whoami')).claims.sub, 'big');
      socket.disconnect();
    }
  });

  it('a 20 KiB header closes that connection at once; the neighbour is served', async () => {
    const before = refusals(await scrape(srv.url), 'engineio.maxHttpHeaderSize');
    const big = await rawRequest(srv.port, `X-Big: ${'a'.repeat(20 * 1024)}\r\n`);
    // libwebsockets 4.1 shuts the write side before we can answer 431 (README).
    assert.equal(big.text, '');
    assert.ok(big.closedAfterMs < 2000, `${big.closedAfterMs} ms`);
    const small = await rawRequest(srv.port, `X-Small: ${'a'.repeat(1024)}\r\n`);
    assert.match(small.text, /^HTTP\/1\.1 200 /);
    const m = await scrape(srv.url);
    assert.equal(refusals(m, 'engineio.maxHttpHeaderSize') - before, 1);
    assert.match(srv.logs(), /request headers over maxHttpHeaderSize \(16384 bytes\): connection closed/);
  });
});

// GET (or `method` with `body`) over `agent` (keep-alive: one connection for
// all; false: a connection of its own, closed after) from `localAddress`.
function get(url, { agent, localAddress = '127.0.0.1', headers = {}, method = 'GET', body: sent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, localAddress, headers, method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, socket: res.socket }));
    });
    req.on('error', reject);
    req.end(sent);
  });
}
const handshakeUrl = (srv) => `${srv.url}/socket.io/?EIO=4&transport=polling`;

describe('limits: per client address', () => {
  // 127.0.0.1 is the abuser, 127.0.0.2 the neighbour (loopback is exempt by default).
  const exempt = { addressLimitsExempt: [] };
  const startServer = (config) => startServerQuick({ drainTime: 500, ...config });

  it('Engine.IO sessions per address, polling ones on one keep-alive connection included', async () => {
    const srv = await startServer({ engineio: { ...exempt, maxSessionsPerAddress: 5, handshakeBurstPerAddress: 100 } });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const answers = [];
      for (let i = 0; i < 7; i++) answers.push(await get(handshakeUrl(srv), { agent }));
      assert.equal(new Set(answers.map((a) => a.socket)).size, 1); // one TCP connection
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 429, 429]);
      assert.deepEqual(JSON.parse(answers[5].body), { code: 4, message: 'Too many sessions from this address' });
      const neighbour = await get(handshakeUrl(srv), { localAddress: '127.0.0.2' });
      assert.equal(neighbour.status, 200);
      // A WebSocket handshake is refused before the upgrade, with the same answer.
      const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
      const refused = await new Promise((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode)));
      assert.equal(refused, 429);
      agent.destroy();
      const m = await scrape(srv.url);
      assert.equal(refusals(m, 'engineio.maxSessionsPerAddress'), 3);
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });

  it('handshakes per second per address', async () => {
    const srv = await startServer({
      engineio: { ...exempt, handshakesPerSecondPerAddress: 5, handshakeBurstPerAddress: 3 },
    });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await get(handshakeUrl(srv))).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      assert.equal((await get(handshakeUrl(srv), { localAddress: '127.0.0.2' })).status, 200);
      await new Promise((r) => setTimeout(r, 250)); // one token back (5 per second)
      assert.equal((await get(handshakeUrl(srv))).status, 200);
      const m = await scrape(srv.url);
      assert.equal(refusals(m, 'engineio.handshakesPerSecondPerAddress'), 2);
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });

  it('connections per address: the one over gets 429 and is closed; the neighbour connects', async () => {
    const srv = await startServer({ engineio: { ...exempt, maxConnectionsPerAddress: 3 } });
    try {
      const open = async (localAddress) => {
        const s = net.connect({ port: srv.port, host: '127.0.0.1', localAddress });
        await new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject));
        return s;
      };
      const held = [await open('127.0.0.1'), await open('127.0.0.1'), await open('127.0.0.1')];
      const over = await rawRequest(srv.port, '');
      assert.match(over.text, /^HTTP\/1\.1 429 Too Many Requests\r\n[\s\S]*Too many connections from this address/);
      // Many at once, each request written as the connection opens: every client reads the 429
      // (the server reads the request before it closes; an unread one would make the close a reset).
      const many = await Promise.all(Array.from({ length: 20 }, () => rawRequest(srv.port, `x-pad: ${'p'.repeat(4000)}\r\n`)));
      for (const r of many) assert.match(r.text, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
      const neighbour = await rawRequestFrom('127.0.0.2', srv.port);
      assert.match(neighbour.text, /^HTTP\/1\.1 200 /);
      held[0].destroy();
      // Once the server has seen that close, 127.0.0.1 may connect again.
      for (let i = 0; ; i++) {
        const again = await rawRequest(srv.port, '');
        if (/^HTTP\/1\.1 200 /.test(again.text)) break;
        assert.ok(i < 100, 'a connection is admitted again after one closed');
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const s of held) s.destroy();
      assert.ok(refusals(await scrape(srv.url), 'engineio.maxConnectionsPerAddress') >= 1);
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });

  it('an address that stopped coming is forgotten on a timer (daheim_engineio_addresses_tracked)', async () => {
    // 127.0.0.3 reads /metrics and is exempt: only 127.0.0.1 has an entry. Six handshakes empty
    // its bucket (2 per second, burst 6): full again 3 s later, long after its sessions and
    // connections ended; nothing more comes from it, so only the sweep (every 3 s) forgets it.
    const srv = await startServer({
      engineio: { addressLimitsExempt: ['127.0.0.3'], handshakesPerSecondPerAddress: 2, handshakeBurstPerAddress: 6 },
    });
    try {
      const tracked = async () => {
        const { body } = await get(`${srv.url}/metrics`, { agent: false, localAddress: '127.0.0.3' });
        return Number(/^daheim_engineio_addresses_tracked (\d+)$/m.exec(body)[1]);
      };
      assert.equal(await tracked(), 0);
      const opened = await Promise.all(Array.from({ length: 6 }, () => get(handshakeUrl(srv), { agent: false })));
      assert.deepEqual(opened.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
      assert.equal(await tracked(), 1); // its sessions are open
      for (const { body } of opened) {
        const url = `${handshakeUrl(srv)}&sid=${JSON.parse(body.slice(1)).sid}`;
        assert.equal((await get(url, { agent: false, method: 'POST', body: '1' })).status, 200);
      }
      const end = Date.now() + 20000;
      while ((await tracked()) !== 0) {
        assert.ok(Date.now() < end, 'the idle address is swept');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });

  it('behind a trusted proxy the X-Forwarded-For client counts, and plugins see it', async () => {
    const srv = await startServer(
      pluginConfig({ engineio: { ...exempt, trustedProxies: ['127.0.0.1'], maxSessionsPerAddress: 2 } }),
    );
    try {
      const as = (client) => ({ headers: { 'x-forwarded-for': `203.0.113.250, ${client}` } });
      const a = [];
      for (let i = 0; i < 3; i++) a.push((await get(handshakeUrl(srv), as('198.51.100.7'))).status);
      assert.deepEqual(a, [200, 200, 429]);
      assert.equal((await get(handshakeUrl(srv), as('198.51.100.8'))).status, 200); // the neighbour, same proxy
      const socket = await connect(srv.url, { extraHeaders: { 'x-forwarded-for': '198.51.100.9' } });
      assert.equal((await call(socket, 'whoami')).address, '198.51.100.9');
      socket.disconnect();
      // An untrusted peer's X-Forwarded-For is ignored.
      const direct = await get(handshakeUrl(srv), { localAddress: '127.0.0.3', ...as('198.51.100.7') });
      assert.equal(direct.status, 200);
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });
});

function rawRequestFrom(localAddress, port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ text }));
    socket.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
}

describe('limits: auth.maxSocketsPerUser', () => {
  let srv;
  const secret = hmacSecret(32);
  const token = (sub) => jwt.sign({ sub }, secret, { algorithm: 'HS256', expiresIn: '1h' });
  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'daheim-limits-'));
    writeFileSync(path.join(dir, 'hs.key'), secret);
    srv = await startServer(
      pluginConfig({
        auth: { hmacSecretFiles: [{ path: path.join(dir, 'hs.key'), alg: 'HS256', kid: '' }], maxSocketsPerUser: 2 },
      }),
    );
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it("a user's sockets beyond the cap are refused; another user connects", async () => {
    const alice = [await connect(srv.url, { auth: { token: token('alice') } }), await connect(srv.url, { auth: { token: token('alice') } })];
    const third = io(srv.url, { forceNew: true, reconnection: false, transports: WS, auth: { token: token('alice') } });
    await assert.rejects(connected(third), (err) => err.message === 'Too many sockets' && err.data?.code === 'too_many_sockets');
    third.close();
    const bob = await connect(srv.url, { auth: { token: token('bob') } });
    assert.equal((await call(bob, 'whoami')).claims.sub, 'bob');
    alice[0].disconnect();
    // Once the server has seen that disconnect, alice may connect again.
    let again;
    for (let i = 0; !again; i++) {
      const s = io(srv.url, { forceNew: true, reconnection: false, transports: WS, auth: { token: token('alice') } });
      try {
        await connected(s);
        again = s;
      } catch {
        s.close();
        assert.ok(i < 50, 'alice connects again after one of her sockets left');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const m = await scrape(srv.url);
    assert.ok(refusals(m, 'auth.maxSocketsPerUser') >= 1);
    for (const s of [alice[1], bob, again]) s.disconnect();
  });
});

describe('limits: the development secret serves loopback only', () => {
  const run = (config, args = []) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'daheim-limits-'));
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    return spawnSync(binaryPath, ['--config', file, ...args], { encoding: 'utf8', timeout: 15000 });
  };

  it('on every address it refuses to start (exit 78) unless the config says so', async () => {
    const r = run({ listen: '0.0.0.0:0', auth: { devSecret: 'a development secret, 32 bytes or more long' } });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /key auth\.devSecret: listener 0 serves every address with the development secret/);
    // --listen replaces the address: the check sees the real one.
    const r2 = run({ auth: { devSecret: 'a development secret, 32 bytes or more long' } }, ['--listen', '0.0.0.0:0']);
    assert.equal(r2.status, 78, r2.stderr);
    // On loopback, or when the config says so explicitly, it starts.
    const local = await startServer({ auth: { devSecret: 'a development secret, 32 bytes or more long' } });
    assert.deepEqual(await local.stop(), { code: 0, signal: null }, local.logs());
    const open = await startServer(
      { auth: { devSecret: 'a development secret, 32 bytes or more long', devSecretOnPublicListeners: true } },
      { listen: '0.0.0.0:0' },
    );
    assert.deepEqual(await open.stop(), { code: 0, signal: null }, open.logs());
  });
});

describe('limits: a client that never reads', () => {
  let srv;
  before(async () => {
    srv = await startServer(
      pluginConfig({
        plugins: [{ path: 'alpha.so' }, { path: 'beta.so' }],
        engineio: { maxBufferedBytes: 1048576, maxPayload: 200000 },
        socketio: { eventsPerSecond: 0 },
      }),
    );
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('is disconnected once its queue passes engineio.maxBufferedBytes; readers get everything', async () => {
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    let joined;
    const ready = new Promise((r) => (joined = r));
    ws.on('message', (d) => {
      const s = d.toString();
      if (s.startsWith('0')) ws.send('40');
      if (s.startsWith('40{')) joined();
    });
    await ready;
    ws._socket.pause(); // never reads again
    const closed = new Promise((r) => ws._socket.once('close', r));
    const sender = await connect(srv.url);
    const reader = io(srv.url, { forceNew: true, reconnection: false, transports: WS });
    let news = 0;
    reader.on('beta-news', () => news++);
    await connected(reader);
    const payload = 'n'.repeat(64 * 1024);
    let sent = 0;
    let dropped = 0;
    for (; sent < 1000 && dropped === 0; sent++) {
      assert.equal(await call(sender, 'broadcast', payload), true);
      if (sent % 25 === 24) dropped = (await scrape(srv.url)).value('daheim_slow_consumer_disconnects_total');
    }
    assert.equal(dropped, 1, `after ${sent} broadcasts of 64 KiB`);
    console.log(`never-reading client dropped after ${sent} broadcasts of 64 KiB (${(sent * 65536 / 1048576).toFixed(1)} MiB)`);
    ws._socket.resume();
    await withTimeout(closed, 10000, 'the server closes the never-reading client');
    for (let i = 0; news < sent; i++) {
      assert.ok(i < 500, `reader got ${news} of ${sent}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(news, sent);
    sender.disconnect();
    reader.disconnect();
  });
});
