// What a presence change costs Redis in a cluster (CAPACITY.md, "The
// presence plugin in a cluster"): two nodes (A, B) with the presence plugin
// on one redis-server this file starts, a teacher on each node, students on B.
// - A node reads the state at most once per onlineInterval /
//   readyUsersInterval: a burst of ready changes within the interval is
//   read together (counted with INFO commandstats: one ZRANGE of the ready
//   order per read), and the teachers get few `readyUsers` frames, the
//   last one listing every ready student once.
// - A read fetches the topics with HMGET, not one HGET per ready student.
// - $presence.list takes the roles and topics of a page with one HMGET each
//   per 1,000 users, not two HGETs per listed user.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import jwt from 'jsonwebtoken';

import { startRedis } from './lib/redis.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { recordedSocket } from './lib/sio.mjs';
import { withTimeout } from './lib/util.mjs';

const secret = crypto.randomBytes(32).toString('hex');
const INTERVAL_MS = 1000;
const STUDENTS = 20;
const LIST_PAGE = 2500; // listMaxPageSize: a page of more than one HMGET batch

const token = (sub, role) =>
  jwt.sign({ sub, role }, secret, { algorithm: 'HS256', audience: 'realtime', expiresIn: 3600 });
const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 8000, event);

let redis;
let control;
const nodes = {};
const sockets = [];
const teachers = [];
const students = [];

async function tab(node, sub, role) {
  const t = await recordedSocket(nodes[node].url, { auth: { token: token(sub, role) } });
  sockets.push(t.socket);
  return t;
}

// `calls` of each Redis command since the last CONFIG RESETSTAT.
async function commandCalls() {
  const out = {};
  for (const line of (await control.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

// The first readyUsers list of `rec` with `n` students (earlier ones consumed).
async function readyUsersUntil(rec, n) {
  for (;;) {
    const [list] = await rec.next('readyUsers', 10000);
    if (list.length === n) return list;
  }
}

before(async () => {
  redis = await startRedis();
  control = await redis.control();
  const config = {
    testHandler: undefined,
    auth: { devSecret: secret, audiences: ['realtime'] },
    plugins: [{ path: path.join(pluginsDir, 'presence', 'presence.so'),
      config: { onlineInterval: INTERVAL_MS, readyUsersInterval: INTERVAL_MS, listMaxPageSize: LIST_PAGE } }],
    cluster: { redis: redis.url },
  };
  [nodes.A, nodes.B] = await Promise.all([startServer(config), startServer(config)]);
  teachers.push(await tab('A', 't1', 'teacher'), await tab('B', 't2', 'teacher'));
  for (let i = 0; i < STUDENTS; ++i) students.push(await tab('B', `s${i}`, 'student'));
  // Both teachers have seen every student come online: the connects are read.
  for (const t of teachers) {
    for (;;) {
      const [c] = await t.rec.next('online', 10000);
      if (c.students === STUDENTS) break;
    }
  }
});

after(async () => {
  for (const s of sockets) s.disconnect();
  await Promise.allSettled(Object.values(nodes).map((n) => n.stop()));
  await redis?.close();
});

describe('cluster: presence state reads', () => {
  test('a burst of ready changes is read once per interval per node', async () => {
    await control.configResetStat();
    const t0 = Date.now();
    const counted = teachers.map((t) => t.rec.count('readyUsers'));
    for (const s of students) assert.deepEqual(await call(s.socket, 'ready', { ready: true, topic: 'math' }), {});
    const results = await Promise.all(teachers.map(async (t, i) => {
      const list = await readyUsersUntil(t.rec, STUDENTS);
      return { frames: t.rec.count('readyUsers') - counted[i], list };
    }));
    const intervals = Math.ceil((Date.now() - t0) / INTERVAL_MS);
    const calls = await commandCalls();
    // The first change is read at once, the rest at the end of each interval.
    const most = 2 * (intervals + 1);
    assert.ok((calls.zrange ?? 0) <= most,
      `${calls.zrange} state reads for ${STUDENTS} changes in ${intervals} interval(s) on 2 nodes (at most ${most})`);
    for (const { frames, list } of results) {
      assert.ok(frames <= intervals + 1, `${frames} readyUsers frames in ${intervals} interval(s)`);
      const ids = list.map((u) => u.id);
      assert.equal(new Set(ids).size, STUDENTS, 'each ready student once');
      assert.deepEqual(ids.sort(), students.map((_, i) => `s${i}`).sort());
    }
  });

  test('a state read takes the topics with HMGET, not an HGET per ready student', async () => {
    const late = await tab('B', 'late', 'student');
    for (const t of teachers) {
      for (;;) {
        const [c] = await t.rec.next('online', 10000);
        if (c.students === STUDENTS + 1) break;
      }
    }
    await control.configResetStat();
    assert.deepEqual(await call(late.socket, 'ready', { ready: true, topic: 'late' }), {});
    for (const t of teachers) {
      const list = await readyUsersUntil(t.rec, STUDENTS + 1);
      assert.deepEqual(list.at(-1), { id: 'late', topic: 'late' });
    }
    const calls = await commandCalls();
    assert.ok((calls.hmget ?? 0) >= 2, `every node read the topics with HMGET (${calls.hmget})`);
    // $ready's own script reads the old topic once; the reads use none.
    assert.ok((calls.hget ?? 0) <= 2, `${calls.hget} HGETs for ${STUDENTS + 1} ready students`);
  });

  test('$presence.list reads roles and topics with one HMGET each per 1,000 users, no HGET', async () => {
    // 1,500 users of no node written into the state as the connect script
    // would (online, role, ready): the page crosses the batch boundary, and
    // each user's role and topic must still be its own.
    const fake = Array.from({ length: 1500 }, (_, i) => `f${String(i).padStart(4, '0')}`);
    const role = (i) => (i % 2 ? `r${i}` : '');
    const topic = (i) => (i % 3 ? null : { n: i });
    await control.zAdd('presence:online', fake.map((u) => ({ score: 0, value: u })));
    await control.hSet('presence:role', fake.flatMap((u, i) => [u, role(i)]));
    await control.hSet('presence:ready', fake.flatMap((u, i) => (topic(i) ? [u, JSON.stringify(topic(i))] : [])));
    try {
      await control.configResetStat();
      const page = await call(teachers[0].socket, 'presence.list', { limit: LIST_PAGE });
      const calls = await commandCalls();
      const real = ['late', ...students.map((_, i) => `s${i}`), 't1', 't2'];
      assert.equal(page.total, fake.length + real.length);
      assert.equal(page.next, null);
      const expected = [
        ...fake.map((id, i) => ({ id, role: role(i) || null, ready: topic(i) !== null, topic: topic(i) })),
        ...real.sort().map((id) => ({
          id,
          role: id.startsWith('t') ? 'teacher' : 'student',
          ready: id.startsWith('s') || id === 'late',
          topic: id === 'late' ? 'late' : id.startsWith('s') ? 'math' : null,
        })),
      ];
      assert.deepEqual(page.users, expected);
      const batches = Math.ceil(page.total / 1000);
      assert.equal(calls.hmget, 2 * batches, `HMGETs for a page of ${page.total} users`);
      assert.equal(calls.hget ?? 0, 0, `${calls.hget} HGETs for a page of ${page.total} users`);
    } finally {
      await control.zRem('presence:online', fake);
      await control.hDel('presence:role', fake);
      await control.hDel('presence:ready', fake);
    }
  });
});
