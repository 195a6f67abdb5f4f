// The admin UI's server side (admin section, core/admin) with socket.io-client
// connecting to "/admin" exactly as @socket.io/admin-ui's UI does: basic
// authentication against a bcrypt hash made here with bcryptjs (the admin
// UI's own library), session ids, config, server_stats every statsInterval,
// development-mode events, the commands (emit, join, leave, _disconnect),
// the UI's files from the npm package, and what the reference server side
// (@socket.io/admin-ui's instrument() on a Node.js socket.io server) sends,
// compared shape for shape; and two nodes over Redis seen from one UI.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { instrument } from '@socket.io/admin-ui';
import { Server as NodeServer } from 'socket.io';

import { scrape } from './lib/metrics.mjs';
import { startRedis } from './lib/redis.mjs';
import { Pool, Recorder, cmd, connected, disconnected, io, startSioServer, UPGRADE, WS } from './lib/sio.mjs';
import { request } from './lib/util.mjs';

const require = createRequire(import.meta.url);
const bcrypt = require('bcryptjs');
const uiDist = path.join(path.dirname(require.resolve('@socket.io/admin-ui/package.json')), 'ui/dist');

const PASSWORD = 'correct horse';
const HEX16 = /^[0-9a-f]{16}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function hashFile() {
  const dir = mkdtempSync(path.join(tmpdir(), 'daheim-admin-'));
  const file = path.join(dir, 'admin.bcrypt');
  writeFileSync(file, bcrypt.hashSync(PASSWORD, 6) + '\n');
  return file;
}

// The UI's connection: its options, a recorder for every event.
function adminSocket(url, auth, opts = {}) {
  const socket = io(`${url}/admin`, {
    forceNew: true,
    reconnection: false,
    withCredentials: true,
    transports: ['polling', 'websocket'],
    auth,
    autoConnect: false,
    ...opts,
  });
  const rec = new Recorder(socket);
  return { socket, rec };
}

// The next `event` about namespace `nsp` (the admin's own are reported too).
async function nextIn(rec, event, nsp) {
  for (;;) {
    const args = await rec.next(event);
    if ((typeof args[0] === 'string' ? args[0] : args[0].nsp) === nsp) return args;
  }
}

async function loginOk(url, auth, opts) {
  const a = adminSocket(url, auth, opts);
  const up = connected(a.socket);
  a.socket.connect();
  await up;
  return a;
}

async function loginRefused(url, auth) {
  const a = adminSocket(url, auth);
  const up = connected(a.socket);
  a.socket.connect();
  const err = await up.then(() => null, (e) => e);
  a.socket.close();
  return err;
}

describe('admin: production mode with basic authentication', () => {
  const pool = new Pool();
  let srv;
  let session;

  before(async () => {
    srv = await startSioServer({}, {
      admin: { auth: { username: 'ops', passwordHashFile: hashFile() }, statsInterval: 500, serverId: 'node-a' },
    });
  });
  after(async () => {
    pool.close();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('refuses a wrong password, another user and an unknown session id', async () => {
    for (const auth of [{ username: 'ops', password: 'wrong' }, { username: 'root', password: PASSWORD },
      { sessionId: '0123456789abcdef' }, {}]) {
      const err = await loginRefused(srv.url, auth);
      assert.ok(err, JSON.stringify(auth));
      assert.equal(err.message, 'invalid credentials');
    }
  });

  it('the password gives a session id, then config, then server_stats', async () => {
    const { socket, rec } = await loginOk(srv.url, { username: 'ops', password: PASSWORD });
    [session] = await rec.next('session');
    assert.match(session, HEX16);
    const [config] = await rec.next('config');
    assert.deepEqual(config, {
      supportedFeatures: ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS'],
    });
    const [a] = await rec.next('server_stats');
    const t0 = Date.now();
    const [b] = await rec.next('server_stats');
    assert.ok(Date.now() - t0 >= 300, 'stats every statsInterval');
    assert.deepEqual(Object.keys(b), ['serverId', 'hostname', 'pid', 'uptime', 'clientsCount',
      'pollingClientsCount', 'aggregatedEvents', 'namespaces']);
    assert.equal(b.serverId, 'node-a');
    assert.equal(b.pid, srv.pid);
    assert.ok(b.uptime > 0 && b.uptime >= a.uptime);
    assert.ok(b.clientsCount >= 1);
    assert.deepEqual(b.namespaces.map((n) => n.name).sort(), ['/', '/admin', '/custom']);
    assert.equal(b.namespaces.find((n) => n.name === '/admin').socketsCount, 1);
    assert.equal(rec.count('all_sockets'), 0, 'production mode lists no sockets');
    socket.close();
  });

  it('the session id alone logs in again (the UI after a reload)', async () => {
    const { socket, rec } = await loginOk(srv.url, { sessionId: session });
    await rec.next('config');
    assert.equal(rec.count('session'), 0);
    socket.close();
  });

  it('aggregated events count connections, packets and bytes', async () => {
    const { socket, rec } = await loginOk(srv.url, { sessionId: session }, { transports: WS });
    const user = await pool.connect(srv.url, '/', { transports: WS });
    await cmd(user.socket, 'echo', 'x'.repeat(1000));
    const seen = new Map();
    const until = Date.now() + 5000;
    while (!(seen.get('rawConnection') && seen.get('bytesIn') >= 1000) && Date.now() < until) {
      const [s] = await rec.next('server_stats');
      for (const e of s.aggregatedEvents) {
        assert.equal(e.timestamp % 1000, 0);
        assert.ok(Math.abs(e.timestamp - Date.now()) < 10000);
        seen.set(e.type, (seen.get(e.type) ?? 0) + e.count);
      }
    }
    assert.ok(seen.get('rawConnection') >= 1, JSON.stringify([...seen]));
    assert.ok(seen.get('packetsIn') >= 1 && seen.get('packetsOut') >= 1);
    assert.ok(seen.get('bytesIn') >= 1000 && seen.get('bytesOut') >= 1000);
    user.socket.disconnect();
    socket.close();
  });

  it('commands: join by socket id, emit to the room, leave, _disconnect', async () => {
    const { socket } = await loginOk(srv.url, { sessionId: session });
    const a = await pool.connect(srv.url, '/', { transports: WS });
    const b = await pool.connect(srv.url, '/', { transports: WS });
    socket.emit('join', '/', 'vip', a.socket.id);
    socket.emit('emit', '/', 'vip', 'news', { n: 1 }, [2]);
    assert.deepEqual(await a.rec.next('news'), [{ n: 1 }, [2]]);
    assert.deepEqual((await cmd(a.socket, 'rooms')).sort(), [a.socket.id, 'vip'].sort());
    assert.deepEqual(await cmd(b.socket, 'rooms'), [b.socket.id]);
    socket.emit('emit', '/', null, 'to-all');
    await a.rec.next('to-all');
    await b.rec.next('to-all');
    socket.emit('leave', '/', 'vip');
    assert.deepEqual(await cmd(a.socket, 'rooms'), [a.socket.id]);
    const gone = disconnected(b.socket);
    socket.emit('_disconnect', '/', false, b.socket.id);
    assert.equal(await gone, 'io server disconnect');
    assert.equal(a.socket.connected, true);
    assert.equal(b.rec.count('news'), 0);
    socket.close();
  });

  it('/metrics counts logins, refusals and commands', async () => {
    const m = await scrape(srv.url);
    assert.equal(m.value('daheim_admin_logins_total'), 1);
    assert.equal(m.value('daheim_admin_refused_total'), 4);
    assert.equal(m.value('daheim_admin_commands_total'), 5);
  });
});

describe('admin: development mode, no authentication, the UI files', () => {
  const pool = new Pool();
  let srv;

  before(async () => {
    srv = await startSioServer({}, { admin: { auth: null, mode: 'development' } });
  });
  after(async () => {
    pool.close();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('all_sockets lists every socket with its client id, transport, handshake and rooms', async () => {
    const user = await pool.connect(srv.url, '/custom', { transports: UPGRADE, query: { access_token: 'secret-token' } });
    await cmd(user.socket, 'join', ['room1']);
    const { socket, rec } = await loginOk(srv.url, {});
    await rec.next('config');
    const [all] = await rec.next('all_sockets');
    const mine = all.find((s) => s.id === user.socket.id);
    assert.ok(mine, JSON.stringify(all));
    assert.deepEqual(Object.keys(mine), ['id', 'clientId', 'transport', 'nsp', 'data', 'handshake', 'rooms']);
    assert.equal(mine.nsp, '/custom');
    assert.equal(mine.clientId, user.socket.io.engine.id.slice(0, 12));
    assert.equal(mine.transport, user.socket.io.engine.transport.name);
    assert.deepEqual(mine.data, {});
    assert.deepEqual(mine.rooms.sort(), [user.socket.id, 'room1'].sort());
    assert.deepEqual(Object.keys(mine.handshake), ['address', 'headers', 'query', 'issued', 'secure', 'time', 'url', 'xdomain']);
    assert.equal(mine.handshake.address, '127.0.0.1');
    assert.ok(Math.abs(mine.handshake.issued - Date.now()) < 60000, `issued ${mine.handshake.issued} is wall-clock time`);
    assert.equal(mine.handshake.query.access_token, '[redacted]');
    assert.ok(!JSON.stringify(all).includes('secret-token'), 'no token reaches the UI');
    assert.ok(all.some((s) => s.nsp === '/admin' && s.id === socket.id));
    socket.close();
  });

  it('socket_connected, room_joined, event_received, event_sent, room_left, socket_disconnected', async () => {
    const { socket, rec } = await loginOk(srv.url, {});
    await rec.next('all_sockets');
    const user = await pool.connect(srv.url, '/', { transports: WS });
    const id = user.socket.id;
    const [s, when] = await nextIn(rec, 'socket_connected', '/');
    assert.equal(s.id, id);
    assert.equal(s.transport, 'websocket');
    assert.match(when, ISO);
    await cmd(user.socket, 'join', ['lobby']);
    const [nsp, room, who, at] = await nextIn(rec, 'room_joined', '/');
    assert.deepEqual([nsp, room, who], ['/', id, id]); // its own room first
    assert.match(at, ISO);
    assert.deepEqual((await nextIn(rec, 'room_joined', '/')).slice(0, 3), ['/', 'lobby', id]);
    const received = await rec.next('event_received');
    assert.deepEqual(received.slice(0, 3), ['/', id, ['join', ['lobby']]]);
    // The fixture greets each socket with "auth" and "hello".
    const sent = [await rec.next('event_sent'), await rec.next('event_sent')];
    assert.deepEqual(sent.map((e) => [e[0], e[1], e[2][0]]), [['/', id, 'auth'], ['/', id, 'hello']]);
    user.socket.disconnect();
    const [dnsp, did, reason, dat] = await rec.next('socket_disconnected');
    assert.deepEqual([dnsp, did, reason], ['/', id, 'client namespace disconnect']);
    assert.match(dat, ISO);
    const left = [(await rec.next('room_left')).slice(0, 3), (await rec.next('room_left')).slice(0, 3)];
    assert.deepEqual(left.map((l) => l[1]).sort(), [id, 'lobby'].sort());
    socket.close();
  });

  it('serves the npm package\'s UI files, without links to the internet', async () => {
    const page = await request(`${srv.url}/admin/`);
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.match(page.body, /<title>Socket.IO Admin UI<\/title>/);
    assert.ok(!page.body.includes('https://'), page.body);
    const js = readdirSync(path.join(uiDist, 'js')).find((f) => /^app\..*\.js$/.test(f));
    const file = await request(`${srv.url}/admin/js/${js}`, { binary: true });
    assert.equal(file.status, 200);
    assert.match(file.headers['content-type'], /^application\/javascript/);
    assert.ok(Buffer.from(file.body).equals(readFileSync(path.join(uiDist, 'js', js))));
    const bare = await request(`${srv.url}/admin`);
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, '/admin/');
    assert.equal((await request(`${srv.url}/admin/nothing.js`)).status, 404);
  });
});

describe('admin: what the reference server side sends, shape for shape', () => {
  let node;
  let srv;
  const pool = new Pool();

  before(async () => {
    const http = createServer();
    const nio = new NodeServer(http, { cors: { origin: '*' } });
    instrument(nio, { auth: false, mode: 'development' });
    nio.of('/').on('connection', (s) => s.join('room1'));
    await new Promise((r) => http.listen(0, '127.0.0.1', r));
    node = { url: `http://127.0.0.1:${http.address().port}`, nio, http };
    srv = await startSioServer({}, { admin: { auth: null, mode: 'development' } });
  });
  after(async () => {
    pool.close();
    node?.nio.close();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  // Keys (recursively, values' types) of what each sends on connect.
  function shape(v) {
    if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape(v[k])]));
    return typeof v;
  }

  async function firstLook(url) {
    const user = io(url, { forceNew: true, reconnection: false, transports: WS });
    await connected(user);
    const { socket, rec } = await loginOk(url, {}, { transports: WS });
    const [config] = await rec.next('config');
    const [all] = await rec.next('all_sockets');
    const [stats] = await rec.next('server_stats', 5000);
    const userSocket = all.find((s) => s.id === user.id);
    user.close();
    socket.close();
    delete userSocket.handshake.headers;
    return { config, userSocket, stats: { ...stats, aggregatedEvents: [], namespaces: [] } };
  }

  it('config, a listed socket and server_stats have the reference\'s members and types', async () => {
    const ref = await firstLook(node.url);
    const ours = await firstLook(srv.url);
    assert.deepEqual(ours.config, ref.config);
    assert.deepEqual(shape(ours.userSocket), shape(ref.userSocket));
    assert.deepEqual(shape(ours.stats), shape(ref.stats));
  });
});

describe('admin: two nodes over Redis, one UI', () => {
  const pool = new Pool();
  let redis;
  let A;
  let B;

  async function clusterUp(url) {
    const end = Date.now() + 15000;
    while (Date.now() < end) {
      const body = await (await fetch(`${url}/healthz`)).json();
      if (body.cluster === 'connected') return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${url} did not join the cluster`);
  }

  before(async () => {
    redis = await startRedis();
    const node = (id) => ({
      cluster: { redis: redis.url, reconnectMin: 50, reconnectMax: 500 },
      admin: { auth: null, mode: 'development', serverId: id, statsInterval: 300 },
    });
    [A, B] = await Promise.all([startSioServer({}, node('node-a')), startSioServer({}, node('node-b'))]);
    await Promise.all([clusterUp(A.url), clusterUp(B.url)]);
  });
  after(async () => {
    pool.close();
    for (const n of [A, B]) if (n) assert.deepEqual(await n.stop(), { code: 0, signal: null }, n.logs());
    await redis?.stop();
  });

  it('the UI on node A sees both servers, node B\'s sockets and events, and disconnects one there', async () => {
    const onB = await pool.connect(B.url, '/', { transports: WS });
    await cmd(onB.socket, 'join', ['on-b']);
    const { socket, rec } = await loginOk(A.url, {}, { transports: WS });
    const [all] = await rec.next('all_sockets');
    const listed = all.find((s) => s.id === onB.socket.id);
    assert.ok(listed, JSON.stringify(all));
    assert.equal(listed.clientId, onB.socket.io.engine.id.slice(0, 12));
    assert.equal(listed.transport, 'websocket');
    assert.deepEqual(listed.rooms.sort(), [onB.socket.id, 'on-b'].sort());
    const servers = new Set();
    while (servers.size < 2) servers.add((await rec.next('server_stats'))[0].serverId);
    assert.deepEqual([...servers].sort(), ['node-a', 'node-b']);

    const later = await pool.connect(B.url, '/', { transports: WS });
    const [s] = await nextIn(rec, 'socket_connected', '/');
    assert.equal(s.id, later.socket.id);

    const gone = disconnected(onB.socket);
    socket.emit('_disconnect', '/', false, onB.socket.id);
    assert.equal(await gone, 'io server disconnect');
    const [, id, reason] = await nextIn(rec, 'socket_disconnected', '/');
    assert.deepEqual([id, reason], [listed.id, 'server namespace disconnect']);
    assert.equal(later.socket.connected, true);
    socket.close();
  });
});
