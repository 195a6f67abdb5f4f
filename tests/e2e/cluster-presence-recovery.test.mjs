// The presence plugin across a cross-node recovery (issue 15, item 7, in a
// cluster): two nodes with the streams adapter and connection-state
// recovery on one redis-server, a teacher on B, two ready students on A
// behind proxies. A is SIGKILLed (or SIGTERMed). One student comes back to B
// at once: counted once, still ready, also after A's entries are dropped.
// The other comes back only after its ready flag expired in Redis: its
// saved session brings the flag back (same topic), and the teacher sees both
// students ready, each once.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import jwt from 'jsonwebtoken';

import { CuttableProxy } from './lib/proxy.mjs';
import { startRedis } from './lib/redis.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { Recorder, WS, connected, io } from './lib/sio.mjs';
import { waitFor, withTimeout } from './lib/util.mjs';

const secret = crypto.randomBytes(32).toString('hex');
const GRACE_MS = 800;

const token = (sub, role) =>
  jwt.sign({ sub, role }, secret, { algorithm: 'HS256', audience: 'realtime', expiresIn: 3600 });
const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 8000, event);
const same = (want) => (v) => JSON.stringify(v) === JSON.stringify(want);

// The first argument of the next `event` satisfying `pred` (earlier ones consumed).
async function until(rec, event, pred, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const [v] = await rec.next(event, Math.max(1, end - Date.now()));
    if (pred(v)) return v;
  }
}

let redis;
let control;
const open = [];

function nodeConfig() {
  return {
    testHandler: undefined,
    auth: { devSecret: secret, audiences: ['realtime'] },
    socketio: { connectionStateRecovery: { maxDisconnectionDuration: 30000 } },
    drainTime: 3000,
    plugins: [{ path: path.join(pluginsDir, 'presence', 'presence.so'), config: { readyGrace: GRACE_MS } }],
    cluster: { redis: redis.url, adapter: 'streams', heartbeatInterval: 300, nodeTtl: 1500,
      reconnectMin: 50, reconnectMax: 500 },
  };
}

function client(url, sub, role, opts = {}) {
  const socket = io(url, { forceNew: true, transports: WS, autoConnect: false,
    reconnectionDelay: 100, reconnectionDelayMax: 300, auth: { token: token(sub, role) }, ...opts });
  const rec = new Recorder(socket);
  const c = { socket, rec, connects: 0, recovered: 0 };
  socket.on('connect', () => {
    c.connects += 1;
    if (socket.recovered) c.recovered += 1;
  });
  open.push(socket);
  return c;
}

// The session Redis keeps for `pid` holds the plugin's ready flag.
async function sessionKeeps(pid, topic) {
  const text = await control.get(`sio:session:${pid}`);
  return text !== null && Buffer.from(text, 'base64').includes(`"topic":${JSON.stringify(topic)}`);
}

before(async () => {
  redis = await startRedis();
  control = await redis.control();
});

after(async () => {
  for (const s of open) {
    s.io.reconnection(false);
    s.disconnect();
  }
  await redis?.close();
});

describe('cluster: presence across a recovery on another node', () => {
  for (const signal of ['SIGKILL', 'SIGTERM']) {
    test(`${signal}: ready flags kept, counted once, brought back by the session`, async () => {
      await control.flushAll();
      const [A, B] = await Promise.all([startServer(nodeConfig()), startServer(nodeConfig())]);
      const proxies = [new CuttableProxy(A.port), new CuttableProxy(A.port)];
      try {
        const teacher = client(B.url, 't', 'teacher', { reconnection: false });
        const up = connected(teacher.socket);
        teacher.socket.connect();
        await up;
        const urls = await Promise.all(proxies.map((p) => p.listen()));
        const s1 = client(urls[0], 's1', 'student');
        const s2 = client(urls[1], 's2', 'student');
        for (const s of [s1, s2]) {
          const ok = connected(s.socket);
          s.socket.connect();
          await ok;
        }
        assert.deepEqual(await call(s1.socket, 'ready', { ready: true, topic: 'Reisen' }), {});
        assert.deepEqual(await call(s2.socket, 'ready', { ready: true, topic: 'Kochen' }), {});
        assert.deepEqual((await s1.rec.next('userIsReady'))[0], { topic: 'Reisen' });
        assert.deepEqual((await s2.rec.next('userIsReady'))[0], { topic: 'Kochen' });
        const both = [{ id: 's1', topic: 'Reisen' }, { id: 's2', topic: 'Kochen' }];
        await until(teacher.rec, 'readyUsers', same(both));
        await until(teacher.rec, 'online', same({ teachers: 1, students: 2 }));
        // A's copies of the sessions carry the flags before A goes.
        const pids = [s1.socket._pid, s2.socket._pid];
        await waitFor('the flags in the saved sessions',
          async () => (await sessionKeeps(pids[0], 'Reisen')) && (await sessionKeeps(pids[1], 'Kochen')));

        for (const p of proxies) p.blocked = true;
        await A.stop(signal);
        for (const p of proxies) {
          p.cut();
          p.retarget(B.port);
        }
        // s1 comes back to B at once.
        proxies[0].blocked = false;
        await waitFor('s1 back', () => s1.connects === 2);
        assert.equal(s1.recovered, 1, 's1 recovered its session');
        assert.deepEqual((await s1.rec.next('userIsReady'))[0], { topic: 'Reisen' });
        // s2 stays away until its flag expired (after A's entries were
        // dropped, for SIGKILL); s1 is online once and still ready.
        await until(teacher.rec, 'readyUsers', same([both[0]]), 15000);
        const list = await call(teacher.socket, 'presence.list', {});
        assert.deepEqual(list.users.map((u) => [u.id, u.ready, u.topic]),
          [['s1', true, 'Reisen'], ['t', false, null]]);
        assert.equal(list.total, 2);
        await until(teacher.rec, 'online', same({ teachers: 1, students: 1 }));

        proxies[1].blocked = false;
        await waitFor('s2 back', () => s2.connects === 2);
        assert.equal(s2.recovered, 1, 's2 recovered its session');
        assert.deepEqual((await s2.rec.next('userIsReady'))[0], { topic: 'Kochen' });
        await until(teacher.rec, 'readyUsers', same(both));
        await until(teacher.rec, 'online', same({ teachers: 1, students: 2 }));
        const after = await call(teacher.socket, 'presence.list', {});
        assert.deepEqual(after.users.map((u) => [u.id, u.ready, u.topic]),
          [['s1', true, 'Reisen'], ['s2', true, 'Kochen'], ['t', false, null]]);
        assert.equal(after.total, 3);
        // B's own copies of the sessions keep the flags (for B's death).
        await waitFor('the flags in B\'s sessions',
          async () => (await sessionKeeps(pids[0], 'Reisen')) && (await sessionKeeps(pids[1], 'Kochen')));
      } finally {
        for (const s of open.splice(0)) {
          s.io.reconnection(false);
          s.disconnect();
        }
        for (const p of proxies) p.close();
        await Promise.allSettled([A.stop('SIGKILL'), B.stop()]);
      }
    });
  }
});
