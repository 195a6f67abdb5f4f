// End-to-end: socket.io-client against the real binary with two plugins
// loaded (plugins/test/alpha.cpp and beta.cpp, built against sdk/ only):
// `$`-methods on both, asynchronous replies from threads, throwing methods,
// unhandled events, 10,000 calls in flight, disconnects with replies
// pending, posts, timers, rooms, claims, start-up failures (exit 78), and
// the conformance plugin.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import jwt from 'jsonwebtoken';

import { POLLING, Recorder, UPGRADE, WS, connected, disconnected, io } from './lib/sio.mjs';
import { binaryPath, pluginsDir, startServer } from './lib/server.mjs';
import { hmacSecret, withTimeout } from './lib/util.mjs';


function pluginConfig(extra = {}) {
  return {
    testHandler: undefined,
    pluginDir: path.join(pluginsDir, 'test'),
    plugins: [{ path: 'alpha.so', config: { workers: 4 } }, { path: 'beta.so' }],
    ...extra,
  };
}

// Connects and waits for both plugins' greetings (alpha's onConnect runs first).
async function connect(url, opts = {}) {
  const socket = io(url, { forceNew: true, reconnection: false, autoConnect: false, ...opts });
  const rec = new Recorder(socket);
  const up = connected(socket);
  socket.connect();
  await up;
  const [welcome] = await rec.next('welcome');
  const [betaHello] = await rec.next('beta-hello');
  return { socket, rec, welcome, betaHello };
}

const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 5000, event);

describe('plugins: two plugins, sync and async methods', () => {
  let srv;
  const sockets = [];
  before(async () => {
    // 10,000 calls in flight on one socket: far above the default event rate.
    srv = await startServer(pluginConfig({ socketio: { eventsPerSecond: 0 } }));
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });
  const open = async (opts) => {
    const c = await connect(srv.url, opts);
    sockets.push(c.socket);
    return c;
  };

  for (const [name, transports] of [['websocket', WS], ['polling', POLLING], ['upgrade', UPGRADE]]) {
    it(`${name}: methods of both plugins answer, onConnect ran in load order`, async () => {
      const { socket, rec, welcome, betaHello } = await open({ transports });
      assert.deepEqual(welcome, { plugin: 'alpha', id: socket.id });
      assert.equal(betaHello, socket.id);
      assert.deepEqual(rec.events, []);
      assert.equal(await call(socket, 'add', 2, 40), 42);
      assert.equal(await call(socket, 'ping'), 'pong');
      assert.deepEqual(await call(socket, 'echo', 1, 'two', { three: [3] }), 1);
      // echo answers with all its arguments: the ack callback sees them all.
      const all = await new Promise((resolve) => socket.emit('echo', 'a', 'b', (...args) => resolve(args)));
      assert.deepEqual(all, ['a', 'b']);
      const bin = await call(socket, 'echo', Buffer.from([1, 2, 3]));
      assert.deepEqual(Buffer.from(bin), Buffer.from([1, 2, 3]));
    });
  }

  it('asynchronous answers from worker threads', async () => {
    const { socket } = await open({ transports: WS });
    const [slow, sum, held] = await Promise.all([
      call(socket, 'slow', 50, { late: true }),
      call(socket, 'sumLater', 2, 40, 30),
      call(socket, 'hold', 20, 'held'),
    ]);
    assert.deepEqual(slow, { late: true });
    assert.equal(sum, 42);
    assert.equal(held, 'held');
  });

  it('throwing methods answer an error and the socket stays up', async () => {
    const { socket } = await open({ transports: WS });
    assert.deepEqual(await call(socket, 'crash'), { error: 'internalServerError' });
    assert.deepEqual(await call(socket, 'fail', 'notAllowed'), { error: 'notAllowed' });
    assert.deepEqual(await call(socket, 'slowFail', 'tooLate'), { error: 'tooLate' });
    assert.deepEqual(await call(socket, 'slowFail', ''), { error: 'internalServerError' });
    assert.equal(socket.connected, true);
    assert.equal(await call(socket, 'ping'), 'pong');
    assert.match(srv.logs(), /plugin alpha: method threw: alpha crashed on purpose/);
    assert.match(srv.logs(), /worker threw: worker exploded/);
  });

  it('unhandled events and methods that return nothing', async () => {
    const { socket } = await open({ transports: WS });
    assert.deepEqual(await call(socket, 'noSuchMethod', 1), { error: 'unhandled' });
    socket.emit('noSuchMethod'); // no ack: nothing comes back
    assert.equal(await call(socket, 'nothing'), null);
    assert.equal(await call(socket, 'ping'), 'pong');
    assert.match(srv.logs(), /unhandled event "noSuchMethod"/);
    assert.match(srv.logs(), /\$nothing returned nothing but the client expects an ack/);
  });

  it('10,000 calls in flight on one socket', async () => {
    const { socket } = await open({ transports: WS });
    const n = 10000;
    const started = Date.now();
    const answers = await withTimeout(
      Promise.all(Array.from({ length: n }, (_, i) => socket.emitWithAck('hold', 300, i))),
      30000,
      `${n} answers`,
    );
    assert.equal(answers.length, n);
    for (let i = 0; i < n; i++) assert.equal(answers[i], i);
    // All were held together: the whole batch took about one hold, not n.
    assert.ok(Date.now() - started < 20000);
    assert.equal(await call(socket, 'ping'), 'pong');
  });

  it('disconnecting with replies pending drops them; the server carries on', async () => {
    for (const transports of [WS, POLLING]) {
      const { socket } = await connect(srv.url, { transports });
      for (let i = 0; i < 200; i++) socket.emit('hold', 100, i, () => {});
      for (let i = 0; i < 5; i++) socket.emit('slow', 50, i, () => {});
      socket.emit('sumLater', 1, 2, 50, () => {});
      socket.disconnect();
    }
    await new Promise((r) => setTimeout(r, 400));
    const { socket } = await open({ transports: WS });
    assert.equal(await call(socket, 'ping'), 'pong');
    assert.match(srv.logs(), /alpha: \S+ left \(client namespace disconnect\)/);
    assert.match(srv.logs(), /beta: \S+ left \(client namespace disconnect\)/);
  });

  it('post to the loop from a worker, timers, and server-to-client acks', async () => {
    const { socket, rec } = await open({ transports: WS });
    assert.equal(await call(socket, 'postEmit', 'poke'), true);
    assert.deepEqual(await rec.next('poke'), ['posted']);
    const key = await call(socket, 'timer', 30);
    assert.deepEqual(await rec.next('tick'), [key]);
    socket.on('question', (q, ack) => ack(q === '2+2?' ? 4 : 0));
    assert.deepEqual(await call(socket, 'ask', '2+2?'), { answer: [4] });
    assert.deepEqual((await call(socket, 'stats')).timers, 0);
  });

  it('rooms: broadcasts from both plugins', async () => {
    const a = await open({ transports: WS });
    const b = await open({ transports: POLLING });
    assert.equal(await call(a.socket, 'join', 'r1'), true);
    assert.equal(await call(b.socket, 'join', 'r1'), true);
    assert.equal(await call(a.socket, 'toRoom', 'r1', 'news', { x: 1 }), true);
    assert.deepEqual(await a.rec.next('news'), [{ x: 1 }]);
    assert.deepEqual(await b.rec.next('news'), [{ x: 1 }]);
    assert.equal(await call(b.socket, 'broadcast', 'hi'), true);
    assert.deepEqual(await a.rec.next('beta-news'), ['hi']);
    assert.equal(b.rec.count('beta-news'), 0);
  });

  it('handshake information reaches the plugin', async () => {
    const { socket } = await open({
      transports: WS,
      query: { room: 'x y' },
      auth: { hello: 'world' },
      extraHeaders: { 'user-agent': 'plugins-e2e' },
    });
    const me = await call(socket, 'whoami');
    assert.equal(me.id, socket.id);
    assert.equal(me.nsp, '/');
    assert.equal(me.address, '127.0.0.1');
    assert.equal(me.transport, 'websocket');
    assert.equal(me.query.room, 'x y');
    assert.equal(me.userAgent, 'plugins-e2e');
    assert.deepEqual(me.auth, { hello: 'world' });
    assert.equal(me.claims, null);
  });
});

describe('plugins: stopping with calls in flight', () => {
  it('SIGTERM while answers are pending: the plugins shut down, exit 0', async () => {
    const srv = await startServer(pluginConfig({ drainTime: 1000 }));
    const { socket } = await connect(srv.url, { transports: WS });
    const pending = Array.from({ length: 50 }, (_, i) => socket.emitWithAck('hold', 5000, i).catch(() => 'lost'));
    pending.push(socket.emitWithAck('slow', 5000, 'x').catch(() => 'lost'));
    assert.equal(await call(socket, 'ping'), 'pong');
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    assert.deepEqual(new Set(await Promise.all(pending)), new Set(['lost']));
    assert.match(srv.logs(), /alpha: \S+ left \((server shutting down|transport close)\)/);
  });
});

describe('plugins: claims of authenticated users', () => {
  let srv;
  const secret = hmacSecret(32);
  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'daheim-plugins-'));
    const keyFile = path.join(dir, 'hs.key');
    writeFileSync(keyFile, secret);
    srv = await startServer(
      pluginConfig({ auth: { hmacSecretFiles: [{ path: keyFile, alg: 'HS256', kid: 'k' }], audiences: ['realtime'] } }),
    );
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('whoami sees the claims; emit_to_user reaches every tab of the user', async () => {
    const token = jwt.sign({ sub: '42', role: 'teacher', aud: 'realtime' }, secret, { algorithm: 'HS256', keyid: 'k' });
    const tab1 = await connect(srv.url, { transports: WS, query: { access_token: token } });
    const tab2 = await connect(srv.url, { transports: POLLING, auth: { token } });
    const me = await call(tab1.socket, 'whoami');
    assert.equal(me.claims.sub, '42');
    assert.equal(me.claims.role, 'teacher');
    assert.equal(await call(tab2.socket, 'notifyUser', '42', 'hello 42'), true);
    assert.deepEqual(await tab1.rec.next('note'), ['hello 42']);
    assert.deepEqual(await tab2.rec.next('note'), ['hello 42']);
    tab1.socket.disconnect();
    tab2.socket.disconnect();
  });
});

describe('plugins: the conformance plugin', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      testHandler: undefined,
      socketio: { namespaces: ['/', '/custom'] },
      pluginDir: path.join(pluginsDir, 'conformance'),
      plugins: [{ path: 'conformance.so' }],
    });
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('auth on connect, message-back, message-with-ack (binary included)', async () => {
    const socket = io(`${srv.url}/custom`, { forceNew: true, reconnection: false, auth: { t: 1 }, transports: WS });
    const rec = new Recorder(socket);
    await connected(socket);
    assert.deepEqual(await rec.next('auth'), [{ t: 1 }]);
    socket.emit('message', 1, '2', { 3: [4] }, Buffer.from([5]));
    const back = await rec.next('message-back');
    assert.deepEqual(back.slice(0, 3), [1, '2', { 3: [4] }]);
    assert.deepEqual(Buffer.from(back[3]), Buffer.from([5]));
    const acked = await new Promise((resolve) => socket.emit('message-with-ack', 'a', [1], (...args) => resolve(args)));
    assert.deepEqual(acked, ['a', [1]]);
    socket.disconnect();
  });
});

describe('plugins: start-up failures exit with 78 and one line', () => {
  function run(config) {
    const dir = mkdtempSync(path.join(tmpdir(), 'daheim-plugins-'));
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ listen: '127.0.0.1:0', ...config }));
    return spawnSync(binaryPath, ['--config', file], { encoding: 'utf8', timeout: 15000 });
  }

  it('a missing plugin', () => {
    const r = run(pluginConfig({ plugins: [{ path: 'alpha.so' }, { path: 'missing.so' }] }));
    assert.equal(r.status, 78, r.stderr);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('<3>'));
    assert.deepEqual(errors, [`<3>plugin ${path.join(pluginsDir, 'test', 'missing.so')}: no such file`]);
  });

  it('a plugin whose init fails, and a duplicate method', () => {
    let r = run(pluginConfig({ plugins: [{ path: 'alpha.so', config: { failInit: true } }] }));
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /plugin alpha: init failed: failInit was set/);
    assert.match(r.stderr, /\(alpha\): init failed \(returned 1\)/);
    r = run(pluginConfig({ plugins: [{ path: 'alpha.so' }, { path: 'alpha.so' }] }));
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /method \$echo is also defined by plugin/);
  });

  it('a config error in "plugins"', () => {
    const r = run(pluginConfig({ plugins: [{ file: 'alpha.so' }] }));
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /key plugins\[0\]\.file: unknown key/);
  });
});
