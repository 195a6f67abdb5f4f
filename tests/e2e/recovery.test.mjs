// Connection-state recovery end to end: socket.io-client reaches the real
// binary through a TCP proxy that the test cuts (both TCP connections reset,
// not a clean disconnect) while numbered events are being sent. On
// reconnect the client must have every number once and in order, with
// socket.recovered === true, the same id and its rooms. Past
// maxDisconnectionDuration it gets a fresh session; an expired token is
// refused on recovery (and the session stays for a valid one); the presence
// plugin keeps its counts and a ready flag across a recovery. Both transports.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import jwt from 'jsonwebtoken';

import { CuttableProxy } from './lib/proxy.mjs';
import { POLLING, Recorder, WS, connected, io } from './lib/sio.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { scrape } from './lib/metrics.mjs';
import { withTimeout } from './lib/util.mjs';


const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 5000, event);
const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

function until(pred, ms, what) {
  return withTimeout(
    new Promise((resolve) => {
      const check = () => (pred() ? resolve() : setTimeout(check, 5));
      check();
    }),
    ms,
    what,
  );
}

// A client that reconnects quickly, recording every event from the start.
function client(url, transports, opts = {}) {
  const socket = io(url, {
    forceNew: true,
    transports,
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
    randomizationFactor: 0,
    autoConnect: false,
    ...opts,
  });
  const rec = new Recorder(socket);
  return { socket, rec };
}

async function start(socket) {
  const up = connected(socket);
  socket.connect();
  await up;
}

function recoveryServer(recovery = {}, extra = {}) {
  return startServer({
    testHandler: 'socketio-e2e',
    socketio: { connectionStateRecovery: { maxDisconnectionDuration: 5000, ...recovery } },
    ...extra,
  });
}

describe('connection-state recovery', () => {
  let srv;
  let proxy;
  let url;
  const sockets = [];
  const track = (c) => {
    sockets.push(c.socket);
    return c;
  };

  before(async () => {
    srv = await recoveryServer();
    proxy = new CuttableProxy(srv.port);
    url = await proxy.listen();
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
    proxy.blocked = false;
  });
  after(async () => {
    proxy?.close();
    await srv?.stop();
  });

  it('replies to CONNECT with a pid and appends offsets to events without ack', async () => {
    const { socket, rec } = track(client(srv.url, WS));
    await start(socket);
    // The fixture greets with "auth" and "hello"; each carries its offset.
    const [authArg, offset] = await rec.next('auth');
    assert.deepEqual(authArg, {});
    assert.equal(typeof offset, 'string');
    const [hello, helloOffset] = await rec.next('hello');
    assert.equal(hello.id, socket.id);
    assert.notEqual(helloOffset, offset);
    assert.equal(socket.recovered, false);
    // Volatile events and events with ack get no offset.
    await call(socket, 'broadcast', { event: 'v', self: true, volatile: true, args: ['plain'] });
    assert.deepEqual(await rec.next('v'), ['plain']);
  });

  for (const [name, transports] of [
    ['websocket', WS],
    ['polling', POLLING],
  ]) {
    it(`${name}: a cut mid-stream loses nothing, duplicates nothing, keeps id and rooms`, async () => {
      const total = 300;
      const { socket } = track(client(url, transports));
      const got = [];
      socket.on('n', (n, offset) => {
        assert.equal(typeof offset, 'string');
        got.push(n);
      });
      await start(socket);
      const sid = socket.id;
      assert.deepEqual((await call(socket, 'join', ['lesson'])).sort(), [sid, 'lesson'].sort());

      // The sender is connected directly; it sends `total` numbers to the room.
      const sender = track(client(srv.url, WS)).socket;
      await start(sender);
      let sent = 0;
      const pump = setInterval(() => {
        for (let i = 0; i < 3 && sent < total; ++i) {
          sent += 1;
          sender.emit('broadcast', { event: 'n', rooms: ['lesson'], args: [sent] });
        }
        if (sent >= total) clearInterval(pump);
      }, 5);

      await until(() => got.length >= 40, 10000, 'the first numbers');
      const reconnected = new Promise((resolve) => socket.once('connect', () => resolve(sent)));
      const sentAtCut = sent;
      // Refused for a while: a polling client between two requests would
      // otherwise just open the next one through a new connection.
      proxy.blocked = true;
      proxy.cut();
      setTimeout(() => (proxy.blocked = false), 200);
      const sentAtConnect = await withTimeout(reconnected, 10000, 'the reconnect');
      assert.ok(sentAtConnect > sentAtCut, 'numbers were sent while the client was away');
      assert.equal(socket.recovered, true, 'recovered');
      assert.equal(socket.id, sid, 'same id');
      await until(() => sent >= total, 20000, 'the sender');
      await until(() => got.length >= total, 10000, `every number (have ${got.length})`);
      assert.deepEqual(got, range(total));
      assert.deepEqual((await call(socket, 'rooms')).sort(), [sid, 'lesson'].sort());
      // Nothing arrives twice later either.
      await call(sender, 'broadcast', { event: 'n', rooms: ['lesson'], args: [total + 1] });
      await until(() => got.length >= total + 1, 5000, 'the last number');
      assert.deepEqual(got, range(total + 1));
    });
  }

  it('a client that got no event yet still recovers what it missed', async () => {
    const { socket, rec } = track(client(url, WS, { auth: {} }));
    // Only CONNECT: no event with an offset reaches it before the cut.
    socket.offAny();
    socket.on('auth', () => {});
    await start(socket);
    const sid = socket.id;
    const reconnected = new Promise((resolve) => socket.once('connect', resolve));
    proxy.blocked = true;
    proxy.cut();
    const sender = track(client(srv.url, WS)).socket;
    await start(sender);
    await call(sender, 'broadcast', { event: 'missed', rooms: [sid], args: ['while-away'] });
    const got = new Promise((resolve) => socket.once('missed', (...a) => resolve(a)));
    proxy.blocked = false;
    await withTimeout(reconnected, 10000, 'the reconnect');
    assert.equal(socket.recovered, true);
    const [arg, offset] = await withTimeout(got, 5000, 'the missed event');
    assert.equal(arg, 'while-away');
    assert.equal(typeof offset, 'string');
    assert.ok(rec);
  });

  it('counts sessions and restores in /metrics', async () => {
    const m = await scrape(srv.url);
    // The two transports' cuts and the no-offset case, at least.
    assert.ok(m.value('daheim_recovery_restores_total', { result: 'restored' }) >= 3, m.text);
    assert.ok(m.value('daheim_recovery_sessions_saved_total') >= 3);
    assert.ok(m.value('daheim_recovery_logged_total') >= 600);
    assert.ok(m.value('daheim_recovery_log_events') >= 600);
  });
});

describe('connection-state recovery: the window and the token', () => {
  it('past maxDisconnectionDuration the client gets a fresh session', async () => {
    const srv = await recoveryServer({ maxDisconnectionDuration: 300 });
    const proxy = new CuttableProxy(srv.port);
    const url = await proxy.listen();
    const { socket } = client(url, WS);
    try {
      await start(socket);
      const sid = socket.id;
      await call(socket, 'join', ['lesson']);
      const reconnected = new Promise((resolve) => socket.once('connect', resolve));
      proxy.blocked = true;
      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 700));
      proxy.blocked = false;
      await withTimeout(reconnected, 10000, 'the reconnect');
      assert.equal(socket.recovered, false);
      assert.notEqual(socket.id, sid);
      assert.deepEqual(await call(socket, 'rooms'), [socket.id]);
    } finally {
      socket.disconnect();
      proxy.close();
      await srv.stop();
    }
  });

  it('an expired token is refused on recovery; a fresh one then recovers', async () => {
    const secret = crypto.randomBytes(32).toString('hex');
    const srv = await recoveryServer(
      { maxDisconnectionDuration: 20000 },
      { auth: { devSecret: secret, audiences: ['realtime'], leeway: 0 } },
    );
    const proxy = new CuttableProxy(srv.port);
    const url = await proxy.listen();
    const sign = (seconds) =>
      jwt.sign({ sub: 'alice' }, secret, { algorithm: 'HS256', audience: 'realtime', expiresIn: seconds });
    const { socket } = client(url, WS, { auth: { token: sign(2) } });
    try {
      await start(socket);
      const sid = socket.id;
      await call(socket, 'join', ['lesson']);
      // Transport errors while the proxy refuses are connect_errors too.
      const refused = new Promise((resolve) =>
        socket.on('connect_error', (err) => err.message === 'unauthorized' && resolve(err)),
      );
      proxy.blocked = true;
      proxy.cut();
      // Back after the token expired (2 s, no leeway).
      await new Promise((resolve) => setTimeout(resolve, 2600));
      proxy.blocked = false;
      const err = await withTimeout(refused, 10000, 'the refusal');
      assert.equal(err.message, 'unauthorized');
      assert.equal(err.data.code, 'token_expired');
      assert.equal(socket.connected, false);
      // The refused attempt did not use up the session.
      socket.auth = { token: sign(3600) };
      await start(socket);
      assert.equal(socket.recovered, true);
      assert.equal(socket.id, sid);
      assert.deepEqual((await call(socket, 'rooms')).sort(), [sid, 'lesson'].sort());
    } finally {
      socket.disconnect();
      proxy.close();
      await srv.stop();
    }
  });
});

describe('connection-state recovery: presence plugin', () => {
  it('neither double-counts nor drops a ready flag across a recovery', async () => {
    const secret = crypto.randomBytes(32).toString('hex');
    const graceMs = 200;
    const srv = await startServer({
      testHandler: undefined,
      auth: { devSecret: secret, audiences: ['realtime'] },
      socketio: { connectionStateRecovery: { maxDisconnectionDuration: 10000 } },
      pluginDir: path.join(pluginsDir, 'presence'),
      plugins: [{ path: 'presence.so', config: { readyGrace: graceMs, onlineInterval: 0 } }],
    });
    const proxy = new CuttableProxy(srv.port);
    const url = await proxy.listen();
    const token = (sub, role) =>
      jwt.sign({ sub, role }, secret, { algorithm: 'HS256', audience: 'realtime', expiresIn: 3600 });
    const student = client(url, WS, { auth: { token: token('s1', 'student') } });
    const teacher = client(srv.url, WS, { auth: { token: token('t1', 'teacher') } });
    try {
      await start(teacher.socket);
      await start(student.socket);
      assert.deepEqual(await call(student.socket, 'ready', { ready: true, topic: 'Reisen' }), {});
      const reconnected = new Promise((resolve) => student.socket.once('connect', resolve));
      proxy.blocked = true;
      proxy.cut();
      // Away longer than the ready flag's grace period.
      await new Promise((resolve) => setTimeout(resolve, graceMs * 4));
      proxy.blocked = false;
      await withTimeout(reconnected, 10000, 'the reconnect');
      assert.equal(student.socket.recovered, true);
      const page = await call(teacher.socket, 'presence.list', {});
      assert.equal(page.total, 2);
      assert.deepEqual(
        page.users.map((u) => [u.id, u.ready, u.topic]),
        [
          ['s1', true, 'Reisen'],
          ['t1', false, null],
        ],
      );
      // The teachers' list has the student again, once.
      const deadline = Date.now() + 5000;
      let list;
      do {
        [list] = await teacher.rec.next('readyUsers', Math.max(1, deadline - Date.now()));
      } while (list.length === 0);
      assert.deepEqual(list, [{ id: 's1', topic: 'Reisen' }]);
      const [counts] = await student.rec.next('online');
      assert.deepEqual(counts, { teachers: 1, students: 1 });
    } finally {
      student.socket.disconnect();
      teacher.socket.disconnect();
      proxy.close();
      await srv.stop();
    }
  });
});
