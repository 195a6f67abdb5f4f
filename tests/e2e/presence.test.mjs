// End-to-end: the presence plugin (plugins/presence) loaded into the real
// binary, driven by socket.io-client with HS256 tokens: rooms by role, the
// `online` counts of users (a user with several tabs counts once) after
// connects and disconnects and their coalescing, $presence.list and its
// pages, $ready and its role rule, a ready user's new tab, and the ready
// flag's grace period after the last disconnect (short in this config); a
// bad plugin config stops the start-up.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';

import jwt from 'jsonwebtoken';

import { POLLING, WS, disconnected, recordedSocket } from './lib/sio.mjs';
import { binaryPath, pluginsDir, startServer } from './lib/server.mjs';
import { withTimeout } from './lib/util.mjs';


const secret = crypto.randomBytes(32).toString('hex');
const GRACE_MS = 600;
const INTERVAL_MS = 100;

function presenceConfig(config = {}) {
  return {
    testHandler: undefined,
    auth: { devSecret: secret, audiences: ['realtime'] },
    pluginDir: path.join(pluginsDir, 'presence'),
    plugins: [{ path: 'presence.so', config: { readyGrace: GRACE_MS, onlineInterval: INTERVAL_MS, ...config } }],
  };
}

const token = (sub, role) =>
  jwt.sign(role === undefined ? { sub } : { sub, role }, secret, { algorithm: 'HS256', audience: 'realtime', expiresIn: 3600 });

const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 5000, event);

// Resolves with the first argument of the next `event` that satisfies `pred`
// (consuming the ones before it).
async function until(rec, event, pred, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const [v] = await rec.next(event, Math.max(1, end - Date.now()));
    if (pred(v)) return v;
  }
}

const counts = (teachers, students) => ({ teachers, students });
const same = (want) => (v) => JSON.stringify(v) === JSON.stringify(want);

describe('presence plugin', () => {
  let srv;
  const open = new Set();
  before(async () => {
    srv = await startServer(presenceConfig());
  });
  after(async () => {
    for (const s of open) s.disconnect();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });
  // Whatever a test left open (when it failed) is closed before the next one,
  // and the next one starts when the server has nobody online.
  afterEach(async () => {
    for (const s of open) s.disconnect();
    open.clear();
    const probe = await tab('probe', 'admin');
    await withTimeout(
      (async () => {
        while ((await call(probe.socket, 'presence.list')).total !== 1) await sleep(20);
      })(),
      5000,
      'everybody offline',
    );
    await close(probe);
  });

  // A connected tab of user `sub` recording every event from the start.
  async function tab(sub, role, { transports = WS, via = 'auth' } = {}) {
    const t = token(sub, role);
    const opts = via === 'auth' ? { auth: { token: t } } : { query: { access_token: t } };
    const c = await recordedSocket(srv.url, { transports, ...opts });
    open.add(c.socket);
    return c;
  }
  async function close(c) {
    const down = disconnected(c.socket);
    c.socket.disconnect();
    await down;
    open.delete(c.socket);
  }
  // The whole online list, page by page.
  async function listAll(c, limit) {
    const users = [];
    let offset = 0;
    for (;;) {
      const page = await call(c.socket, 'presence.list', { offset, limit });
      users.push(...page.users);
      if (page.next === null) return { users, total: page.total };
      assert.equal(page.next, offset + page.users.length);
      offset = page.next;
    }
  }

  it('counts users, not tabs, after connects and disconnects; lists them', async () => {
    const teacher = await tab('t-1', 'teacher');
    assert.deepEqual(await teacher.rec.next('online'), [counts(1, 0)]);
    assert.deepEqual(await teacher.rec.next('readyUsers'), [[]]);

    const s1 = await tab('s-1', 'student', { transports: POLLING, via: 'query' });
    assert.deepEqual(await until(teacher.rec, 'online', () => true), counts(1, 1));
    assert.deepEqual(await s1.rec.next('online'), [counts(1, 1)]);

    // A second tab of s-1: it learns the counts, nobody else hears of it.
    await sleep(3 * INTERVAL_MS); // no broadcast pending
    const heard = teacher.rec.count('online');
    const s1b = await tab('s-1', 'student');
    assert.deepEqual(await s1b.rec.next('online'), [counts(1, 1)]);
    await sleep(3 * INTERVAL_MS);
    assert.equal(teacher.rec.count('online'), heard);
    assert.equal(s1.rec.count('readyUsers'), 0, 'students do not get readyUsers');

    const s2 = await tab('s-2', 'student');
    assert.deepEqual(await until(teacher.rec, 'online', same(counts(1, 2))), counts(1, 2));
    const admin = await tab('a-1', 'admin');
    const noRole = await tab('n-1');
    assert.deepEqual(await admin.rec.next('online'), [counts(1, 2)]);
    assert.deepEqual(await noRole.rec.next('online'), [counts(1, 2)]);

    const list = await listAll(s2, 2);
    assert.equal(list.total, 5);
    assert.deepEqual(list.users, [
      { id: 'a-1', role: 'admin', ready: false, topic: null },
      { id: 'n-1', role: null, ready: false, topic: null },
      { id: 's-1', role: 'student', ready: false, topic: null },
      { id: 's-2', role: 'student', ready: false, topic: null },
      { id: 't-1', role: 'teacher', ready: false, topic: null },
    ]);
    const first = await call(teacher.socket, 'presence.list');
    assert.deepEqual({ total: first.total, n: first.users.length, next: first.next }, { total: 5, n: 5, next: null });
    assert.deepEqual(await call(teacher.socket, 'presence.list', { offset: -1 }), { error: 'badRequest' });

    // Closing one of two tabs changes nothing; the last one does.
    await sleep(3 * INTERVAL_MS);
    const heard2 = teacher.rec.count('online');
    await close(s1);
    await sleep(3 * INTERVAL_MS);
    assert.equal(teacher.rec.count('online'), heard2);
    await close(s1b);
    assert.deepEqual(await until(teacher.rec, 'online', same(counts(1, 1))), counts(1, 1));
    assert.equal((await call(teacher.socket, 'presence.list')).total, 4);
    for (const c of [s2, admin, noRole]) await close(c);
    assert.deepEqual(await until(teacher.rec, 'online', same(counts(1, 0))), counts(1, 0));
    await close(teacher);
  });

  it('coalesces the online broadcast: at most one per interval, the last one right', async () => {
    const teacher = await tab('t-co', 'teacher');
    await until(teacher.rec, 'online', same(counts(1, 0)));
    await sleep(3 * INTERVAL_MS); // no broadcast pending
    const times = [];
    teacher.socket.on('online', () => times.push(performance.now()));
    const start = performance.now();
    const students = await Promise.all(Array.from({ length: 20 }, (_, i) => tab(`co-${i}`, 'student')));
    assert.deepEqual(await until(teacher.rec, 'online', same(counts(1, 20))), counts(1, 20));
    const elapsed = performance.now() - start;
    await sleep(3 * INTERVAL_MS);
    // One at once, then at most one per interval. (The gaps as this client
    // sees them say little: while it is busy connecting, frames sent 100 ms
    // apart are read together. The unit test checks the timing exactly.)
    assert.ok(times.length <= Math.floor(elapsed / INTERVAL_MS) + 1, `${times.length} broadcasts in ${elapsed} ms`);
    assert.ok(times.length < 20, `${times.length} broadcasts for 20 connects`);
    await Promise.all(students.map(close));
    assert.deepEqual(await until(teacher.rec, 'online', same(counts(1, 0))), counts(1, 0));
    await close(teacher);
  });

  it('$ready: students only; every tab and the teachers hear of it; a new tab is told', async () => {
    const teacher = await tab('t-r', 'teacher');
    assert.deepEqual(await teacher.rec.next('readyUsers'), [[]]);
    const a1 = await tab('s-a', 'student');
    const a2 = await tab('s-a', 'student', { transports: POLLING });
    const b = await tab('s-b', 'student');

    assert.deepEqual(await call(teacher.socket, 'ready', { ready: true, topic: 'x' }), { error: 'forbidden' });
    const admin = await tab('a-r', 'admin');
    assert.deepEqual(await call(admin.socket, 'ready', { ready: true }), { error: 'forbidden' });
    assert.deepEqual(await call(a1.socket, 'ready', { ready: 'yes' }), { error: 'badRequest' });

    assert.deepEqual(await call(a1.socket, 'ready', { ready: true, topic: 'Reisen' }), {});
    assert.deepEqual(await a1.rec.next('userIsReady'), [{ topic: 'Reisen' }]);
    assert.deepEqual(await a2.rec.next('userIsReady'), [{ topic: 'Reisen' }]);
    assert.deepEqual(await teacher.rec.next('readyUsers'), [[{ id: 's-a', topic: 'Reisen' }]]);

    assert.deepEqual(await call(b.socket, 'ready', { ready: true, topic: { title: 'Kochen' } }), {});
    assert.deepEqual(await teacher.rec.next('readyUsers'), [
      [{ id: 's-a', topic: 'Reisen' }, { id: 's-b', topic: { title: 'Kochen' } }],
    ]);
    assert.deepEqual(await b.rec.next('userIsReady'), [{ topic: { title: 'Kochen' } }]);
    assert.equal(a1.rec.count('userIsReady'), 1, "only the user's own tabs");

    // A new tab of a ready user, a new teacher tab.
    const a3 = await tab('s-a', 'student');
    assert.deepEqual(await a3.rec.next('userIsReady'), [{ topic: 'Reisen' }]);
    const teacher2 = await tab('t-r2', 'teacher');
    assert.deepEqual(await teacher2.rec.next('readyUsers'), [
      [{ id: 's-a', topic: 'Reisen' }, { id: 's-b', topic: { title: 'Kochen' } }],
    ]);
    const page = await call(teacher.socket, 'presence.list', { limit: 1000 });
    assert.deepEqual(page.users.find((u) => u.id === 's-a'), { id: 's-a', role: 'student', ready: true, topic: 'Reisen' });

    // Not ready: every tab, both teachers.
    assert.deepEqual(await call(a2.socket, 'ready', { ready: false }), {});
    for (const c of [a1, a2, a3]) assert.deepEqual(await c.rec.next('userIsNotReady'), []);
    for (const t of [teacher, teacher2]) {
      assert.deepEqual(await until(t.rec, 'readyUsers', () => true), [{ id: 's-b', topic: { title: 'Kochen' } }]);
    }
    assert.equal(b.rec.count('userIsNotReady'), 0);
    assert.deepEqual(await call(b.socket, 'ready', { ready: false }), {});
    assert.deepEqual(await until(teacher.rec, 'readyUsers', () => true), []);
    for (const c of [teacher, teacher2, a1, a2, a3, b, admin]) await close(c);
  });

  it('the ready flag survives the last disconnect for the grace period, then expires', async () => {
    const teacher = await tab('t-g', 'teacher');
    await teacher.rec.next('readyUsers');
    let s = await tab('s-g', 'student');
    assert.deepEqual(await until(teacher.rec, 'online', same(counts(1, 1))), counts(1, 1));
    assert.deepEqual(await call(s.socket, 'ready', { ready: true, topic: 'Musik' }), {});
    assert.deepEqual(await teacher.rec.next('readyUsers'), [[{ id: 's-g', topic: 'Musik' }]]);

    // Back within the grace period: still ready, and told so.
    await close(s);
    assert.deepEqual(await until(teacher.rec, 'online', same(counts(1, 0))), counts(1, 0));
    await sleep(GRACE_MS / 3);
    s = await tab('s-g', 'student');
    assert.deepEqual(await s.rec.next('userIsReady'), [{ topic: 'Musik' }]);
    const lists = teacher.rec.count('readyUsers');
    await sleep(GRACE_MS + 200);
    assert.equal(teacher.rec.count('readyUsers'), lists, 'no expiry while online');

    // Gone for longer: the flag expires, lists and counts go out again.
    const left = performance.now();
    await close(s);
    assert.deepEqual(await until(teacher.rec, 'online', same(counts(1, 0))), counts(1, 0));
    assert.deepEqual(await teacher.rec.next('readyUsers', GRACE_MS + 3000), [[]]);
    const waited = performance.now() - left;
    assert.ok(waited >= GRACE_MS - 50, `expired after ${waited} ms`);
    assert.deepEqual(await teacher.rec.next('online'), [counts(1, 0)]);
    s = await tab('s-g', 'student');
    await s.rec.next('online');
    await sleep(2 * INTERVAL_MS);
    assert.equal(s.rec.count('userIsReady'), 0);
    const me = (await call(teacher.socket, 'presence.list')).users.find((u) => u.id === 's-g');
    assert.deepEqual(me, { id: 's-g', role: 'student', ready: false, topic: null });
    await close(s);
    await close(teacher);
  });
});

describe('presence plugin: configured roles and rooms', () => {
  let srv;
  const sockets = [];
  before(async () => {
    srv = await startServer(
      presenceConfig({
        roleRooms: { coach: 'coaches', learner: 'learners' },
        readyRoles: ['coach'],
        readyUsersRoom: 'learners',
        listRoles: ['coach'],
      }),
    );
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });
  async function tab(sub, role) {
    const t = await recordedSocket(srv.url, { auth: { token: token(sub, role) } });
    sockets.push(t.socket);
    return t;
  }

  it('counts by the configured rooms and applies the configured role rules', async () => {
    const coach = await tab('c-1', 'coach');
    assert.deepEqual(await coach.rec.next('online'), [{ coaches: 1, learners: 0 }]);
    const learner = await tab('l-1', 'learner');
    assert.deepEqual(await learner.rec.next('readyUsers'), [[]]);
    assert.deepEqual(await until(coach.rec, 'online', () => true), { coaches: 1, learners: 1 });
    assert.deepEqual(await call(learner.socket, 'ready', { ready: true }), { error: 'forbidden' });
    assert.deepEqual(await call(learner.socket, 'presence.list'), { error: 'forbidden' });
    assert.deepEqual(await call(coach.socket, 'ready', { ready: true, topic: 't' }), {});
    assert.deepEqual(await learner.rec.next('readyUsers'), [[{ id: 'c-1', topic: 't' }]]);
    assert.equal((await call(coach.socket, 'presence.list')).total, 2);
  });
});

describe('presence plugin: a bad config stops the start-up', () => {
  it('exits with 78 and says which key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'daheim-presence-'));
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ listen: '127.0.0.1:0', ...presenceConfig({ readyGrace: '30s' }) }));
    const r = spawnSync(binaryPath, ['--config', file], { encoding: 'utf8', timeout: 15000 });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /plugin presence: init failed: config key "readyGrace": must be an integer/);
  });
});
