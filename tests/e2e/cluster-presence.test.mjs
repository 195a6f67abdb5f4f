// Plugins in a cluster: three daheim-live nodes (A, B, C) on one
// redis-server this file starts, each with the presence plugin and the
// counter example (plugins/counter). A teacher on A, students on B and C:
// counts, lists, $ready and its grace period as on one node; a student with
// tabs on two nodes counts once; C SIGKILLed: A and B report its users gone
// within the heartbeat TTL (the measured time is printed); C restarted:
// counts right again. The Redis commands API while Redis is down (a code),
// with a call in flight when Redis dies (a code at once, not the timeout),
// and after it is back (works); node messages with gathered answers.
// Presence changes made while Redis is down, and the whole state after
// Redis restarted empty, are written again by every node when it is back.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import jwt from 'jsonwebtoken';

import { scrape } from './lib/metrics.mjs';
import { startRedis } from './lib/redis.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { disconnected, recordedSocket } from './lib/sio.mjs';
import { withTimeout } from './lib/util.mjs';

const secret = crypto.randomBytes(32).toString('hex');
const GRACE_MS = 1500;
const HEARTBEAT_MS = 300;
const TTL_MS = 2000;
// Far above how fast a call in flight must fail when Redis dies.
const PLUGIN_REDIS_TIMEOUT_MS = 20000;

const token = (sub, role) =>
  jwt.sign({ sub, role }, secret, { algorithm: 'HS256', audience: 'realtime', expiresIn: 3600 });
const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 8000, event);
const same = (want) => (v) => JSON.stringify(v) === JSON.stringify(want);
const counts = (teachers, students) => ({ teachers, students });

// The first argument of the next `event` satisfying `pred` (earlier ones consumed).
async function until(rec, event, pred, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const [v] = await rec.next(event, Math.max(1, end - Date.now()));
    if (pred(v)) return v;
  }
}

let redis;
let config;
const nodes = {};
const sockets = [];

async function tab(node, sub, role) {
  const t = await recordedSocket(nodes[node].url, { auth: { token: token(sub, role) } });
  sockets.push(t.socket);
  return t;
}

async function close(t) {
  const down = disconnected(t.socket);
  t.socket.disconnect();
  await down;
}

// Every node listens for requests (serverSideEmit) and beats.
async function clusterReady(n) {
  const control = await redis.control();
  for (;;) {
    const [, subs] = await control.sendCommand(['PUBSUB', 'NUMSUB', 'socket.io-request#/#']);
    const alive = await control.sendCommand(['ZCARD', 'socket.io#nodes']);
    if (Number(subs) === n && Number(alive) === n) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await control.quit();
}

before(async () => {
  redis = await startRedis();
  config = {
    testHandler: undefined,
    auth: { devSecret: secret, audiences: ['realtime'] },
    plugins: [
      { path: path.join(pluginsDir, 'presence', 'presence.so'), config: { readyGrace: GRACE_MS } },
      { path: path.join(pluginsDir, 'counter', 'counter.so') },
    ],
    cluster: { redis: redis.url, heartbeatInterval: HEARTBEAT_MS, nodeTtl: TTL_MS,
      pluginRedisTimeout: PLUGIN_REDIS_TIMEOUT_MS },
  };
  [nodes.A, nodes.B, nodes.C] = await Promise.all([startServer(config), startServer(config), startServer(config)]);
  await clusterReady(3);
});

after(async () => {
  for (const s of sockets) s.disconnect();
  await Promise.allSettled(Object.values(nodes).map((n) => n.stop()));
  await redis?.close();
});

describe('cluster: presence over three nodes', () => {
  let teacher;
  let s1b;
  let s1c;
  let s2c;

  test('counts and lists by role over all nodes, a user with tabs on two nodes once', async () => {
    teacher = await tab('A', 't1', 'teacher');
    await until(teacher.rec, 'online', same(counts(1, 0)));
    s1b = await tab('B', 's1', 'student');
    await until(teacher.rec, 'online', same(counts(1, 1)));
    await until(s1b.rec, 'online', same(counts(1, 1)));
    s2c = await tab('C', 's2', 'student');
    await until(teacher.rec, 'online', same(counts(1, 2)));
    await until(s1b.rec, 'online', same(counts(1, 2)));
    s1c = await tab('C', 's1', 'student'); // s1's second tab, on another node
    await until(s1c.rec, 'online', same(counts(1, 2)));
    const list = await call(teacher.socket, 'presence.list', {});
    assert.equal(list.total, 3);
    assert.deepEqual(list.users.map((u) => [u.id, u.role]), [['s1', 'student'], ['s2', 'student'], ['t1', 'teacher']]);
    await close(s1b); // s1 still has the tab on C
    const again = await call(teacher.socket, 'presence.list', {});
    assert.equal(again.total, 3);
    s1b = await tab('B', 's1', 'student');
    assert.deepEqual((await until(s1b.rec, 'online', () => true)), counts(1, 2));
  });

  test('$ready reaches the teacher on another node, and the grace period ends there', async () => {
    assert.deepEqual(await call(s1b.socket, 'ready', { ready: true, topic: 'math' }), {});
    await until(teacher.rec, 'readyUsers', same([{ id: 's1', topic: 'math' }]));
    assert.deepEqual(await s1c.rec.next('userIsReady'), [{ topic: 'math' }]); // the tab on C too
    assert.deepEqual(await call(s2c.socket, 'ready', { ready: true, topic: 'art' }), {});
    await until(teacher.rec, 'readyUsers', same([{ id: 's1', topic: 'math' }, { id: 's2', topic: 'art' }]));
    const left = Date.now();
    await close(s2c);
    await until(teacher.rec, 'online', same(counts(1, 1)));
    // Still ready during the grace period, then gone.
    const list = await call(teacher.socket, 'presence.list', {});
    assert.equal(list.total, 2);
    await until(teacher.rec, 'readyUsers', same([{ id: 's1', topic: 'math' }]), GRACE_MS + 5000);
    assert.ok(Date.now() - left >= GRACE_MS - 100, `grace ended after ${Date.now() - left} ms`);
    // Back on another node within its grace: still ready.
    assert.deepEqual(await call(s1b.socket, 'ready', { ready: false }), {});
    await until(teacher.rec, 'readyUsers', same([]));
  });

  test('node C SIGKILLed: A and B report its users gone within the TTL; C restarted counts again', async () => {
    s2c = await tab('C', 's2', 'student');
    await until(teacher.rec, 'online', same(counts(1, 2)));
    const killed = Date.now();
    await nodes.C.stop('SIGKILL');
    // s1 keeps its tab on B: only s2 goes offline.
    await until(teacher.rec, 'online', same(counts(1, 1)), TTL_MS + 10000);
    const ms = Date.now() - killed;
    await until(s1b.rec, 'online', same(counts(1, 1)), 5000);
    console.log(`# SIGKILL to the online update on A: ${ms} ms (nodeTtl ${TTL_MS}, heartbeatInterval ${HEARTBEAT_MS})`);
    assert.ok(ms <= TTL_MS + 3 * HEARTBEAT_MS + 2000, `${ms} ms`);
    const list = await call(teacher.socket, 'presence.list', {});
    assert.deepEqual(list.users.map((u) => u.id), ['s1', 't1']);

    nodes.C = await startServer(config);
    await clusterReady(3);
    s2c = await tab('C', 's2', 'student');
    await until(teacher.rec, 'online', same(counts(1, 2)));
    assert.deepEqual(await until(s2c.rec, 'online', () => true), counts(1, 2));
    assert.equal((await call(s2c.socket, 'presence.list', {})).total, 3);
  });
});

describe('cluster: host services for any plugin (plugins/counter)', () => {
  test('Redis scripts share one value; node messages gather every node', async () => {
    const a = await tab('A', 'u1', 'teacher');
    const c = await tab('C', 'u2', 'teacher');
    assert.deepEqual(await call(a.socket, 'counter.add', { by: 2 }), { value: 2 });
    assert.deepEqual(await call(c.socket, 'counter.add', { by: 3 }), { value: 5 });
    assert.deepEqual(await call(a.socket, 'counter.nodes'), { nodes: 3 });
  });

  test('Redis down: calls fail with a code; back: calls work', async () => {
    const b = await tab('B', 'u3', 'teacher');
    await redis.stop();
    assert.deepEqual(await call(b.socket, 'counter.add', { by: 1 }), { error: 'unavailable' });
    await redis.start();
    const end = Date.now() + 15000;
    let r;
    do {
      r = await call(b.socket, 'counter.add', { by: 1 });
      if (r.error) await new Promise((res) => setTimeout(res, 100));
    } while (r.error && Date.now() < end);
    assert.deepEqual(r, { value: 1 }); // a fresh Redis: the script loads again (EVAL after NOSCRIPT)
  });

  test('a call in flight when Redis dies fails with a code at once; the next one works', async () => {
    const b = await tab('B', 'u4', 'teacher');
    const control = await redis.control();
    // Redis holds every other client's commands: the counter's script waits.
    await control.sendCommand(['CLIENT', 'PAUSE', '60000', 'ALL']);
    const answer = call(b.socket, 'counter.add', { by: 5 });
    const inFlight = { plugin: 'counter', method: '$counter.add' };
    for (;;) {
      const m = await scrape(nodes.B.url);
      if (m.value('daheim_plugin_calls_pending', inFlight) === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const killed = Date.now();
    await redis.stop();
    assert.deepEqual(await answer, { error: 'unavailable' });
    const ms = Date.now() - killed;
    console.log(`# a call in flight failed ${ms} ms after Redis died`);
    assert.ok(ms < 3000, `failed ${ms} ms after Redis died (pluginRedisTimeout ${PLUGIN_REDIS_TIMEOUT_MS})`);
    await control.disconnect().catch(() => {});
    await redis.start();
    const end = Date.now() + 15000;
    let r;
    do {
      r = await call(b.socket, 'counter.add', { by: 2 });
      if (r.error) await new Promise((res) => setTimeout(res, 100));
    } while (r.error && Date.now() < end);
    assert.deepEqual(r, { value: 2 }); // the lost call was not applied later
  });
});

describe('cluster: presence after Redis was away', () => {
  // Every node has written its connections to Redis (after the restarts above).
  async function synced() {
    const control = await redis.control();
    while ((await control.sendCommand(['KEYS', 'presence:synced:*'])).length !== 3)
      await new Promise((r) => setTimeout(r, 50));
    await control.quit();
  }

  test('changes made while Redis was down, and the state Redis lost, are written again', async () => {
    await synced();
    const watch = await tab('A', 'w1', 'teacher');
    const [before] = await watch.rec.next('online');
    const gone = await tab('C', 's8', 'student');
    const base = await until(watch.rec, 'online', same(counts(before.teachers, before.students + 1)));
    await redis.stop();
    await close(gone); // its disconnect cannot reach Redis
    const s9 = await tab('B', 's9', 'student'); // nor these connects
    const s10 = await tab('C', 's10', 'student');
    await redis.start(); // empty: every node writes its connections again
    const want = counts(base.teachers, base.students + 1);
    await until(watch.rec, 'online', same(want), 15000);
    await until(s9.rec, 'online', same(want), 5000);
    await until(s10.rec, 'online', same(want), 5000);
    await synced();
    const list = await call(watch.socket, 'presence.list', { limit: 100 });
    const ids = list.users.map((u) => u.id);
    assert.ok(ids.includes('s9') && ids.includes('s10') && ids.includes('w1'), ids.join());
    assert.ok(!ids.includes('s8'), ids.join());
    assert.equal(list.total, base.teachers + base.students + 1);
  });
});
