// Plugins see one server: the push plugin's POST /api/v1/push on either of
// two daheim-live nodes (same Redis) reaches the user's sockets on both, and
// a room or everybody across the cluster (plugins/push emits with the host's
// emit_to / emit_to_user, which the cluster adapter publishes). Its answer
// counts the sockets on every node (host target_count_async, the request
// answered later through http_defer / http_reply), and says when a node did
// not answer.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import jwt from 'jsonwebtoken';

import { startRedis } from './lib/redis.mjs';
import { pluginsDir, startServer, tempFiles } from './lib/server.mjs';
import { Recorder, WS, connected, io } from './lib/sio.mjs';
import { hmacSecret, postPush } from './lib/util.mjs';

const { dir, file } = tempFiles('daheim-cluster-push-');
const userKey = hmacSecret(32);
const bearer = crypto.randomBytes(32).toString('base64url');
const userToken = (sub) =>
  jwt.sign({ sub, aud: 'realtime' }, userKey, { algorithm: 'HS256', keyid: 'u', expiresIn: '1h' });

let redis;
let A;
let B;
const sockets = [];

async function open(url, user) {
  const socket = io(url, { forceNew: true, reconnection: false, autoConnect: false, transports: WS,
    auth: { token: userToken(user) } });
  sockets.push(socket);
  const rec = new Recorder(socket);
  const up = connected(socket);
  socket.connect();
  await up;
  await rec.next('welcome');
  return { socket, rec };
}

async function push(url, body) {
  const res = await postPush(url, bearer, body);
  return { status: res.status, json: JSON.parse(res.body) };
}

before(async () => {
  redis = await startRedis();
  const config = {
    testHandler: undefined,
    auth: {
      hmacSecretFiles: [{ path: file('users.key', userKey), alg: 'HS256', kid: 'u' }],
      audiences: ['realtime'],
      tokenSources: ['auth'],
    },
    plugins: [
      { path: path.join(pluginsDir, 'test', 'alpha.so'), config: { workers: 1 } },
      { path: path.join(pluginsDir, 'push', 'push.so'), config: { bearerSecretFile: file('push.secret', bearer) } },
    ],
    // A stopped node (SIGSTOP below) is given up on after this long.
    cluster: { redis: redis.url, requestsTimeout: 1500 },
  };
  [A, B] = await Promise.all([startServer(config), startServer(config)]);
  const control = await redis.control();
  for (;;) {
    const [, n] = await control.sendCommand(['PUBSUB', 'NUMSUB', 'socket.io-request#/#']);
    if (Number(n) === 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await control.quit();
});

after(async () => {
  for (const s of sockets) s.disconnect();
  await Promise.allSettled([A?.stop(), B?.stop()]);
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cluster: plugins see one server', () => {
  test('a push on either node reaches the user on both, and everybody', async () => {
    const aliceA = await open(A.url, 'alice');
    const aliceB = await open(B.url, 'alice');
    const bobB = await open(B.url, 'bob');
    let r = await push(A.url, { to: { users: ['alice'] }, event: 'note', data: { n: 1 } });
    assert.equal(r.status, 202);
    assert.deepEqual(await aliceA.rec.next('note'), [{ n: 1 }]);
    assert.deepEqual(await aliceB.rec.next('note'), [{ n: 1 }]);
    r = await push(B.url, { to: { users: ['bob'] }, event: 'note', data: { n: 2 } });
    assert.equal(r.status, 202);
    assert.deepEqual(await bobB.rec.next('note'), [{ n: 2 }]);
    r = await push(A.url, { to: { all: true }, event: 'all', data: 3 });
    assert.equal(r.status, 202);
    for (const s of [aliceA, aliceB, bobB]) assert.deepEqual(await s.rec.next('all'), [3]);
    // Exactly once: a marker from the other node comes after anything
    // duplicated (Redis delivers in the order it took the publishes).
    await push(B.url, { to: { all: true }, event: 'marker', data: 4 });
    for (const s of [aliceA, aliceB, bobB]) {
      assert.deepEqual(await s.rec.next('marker'), [4]);
      assert.equal(s.rec.count('all'), 1);
    }
    assert.equal(aliceA.rec.count('note'), 1);
    assert.equal(aliceB.rec.count('note'), 1);
    assert.equal(bobB.rec.count('note'), 1);
  });
});

describe('cluster: the push answer counts every node', () => {
  test('a user with sockets on both nodes: the total, through either node', async () => {
    const tabs = [await open(A.url, 'carol'), await open(A.url, 'carol'), await open(B.url, 'carol')];
    await open(B.url, 'dave');
    for (const url of [A.url, B.url]) {
      const r = await push(url, { to: { user: 'carol' }, event: 'count', data: url });
      assert.equal(r.status, 202);
      assert.deepEqual(r.json, { sockets: 3, complete: true });
      for (const t of tabs) assert.deepEqual(await t.rec.next('count'), [url]);
    }
    let r = await push(B.url, { to: { users: ['carol', 'dave', 'nobody'] }, event: 'count', data: 0 });
    assert.deepEqual(r.json, { sockets: 4, complete: true });
    r = await push(A.url, { to: { room: 'user-dave' }, event: 'count', data: 0 });
    assert.deepEqual(r.json, { sockets: 1, complete: true });
    r = await push(A.url, { to: { user: 'nobody' }, event: 'count', data: 0 });
    assert.deepEqual(r.json, { sockets: 0, complete: true });
  });

  test('a node that does not answer: what the others counted, complete false', async () => {
    const mine = await open(A.url, 'erin');
    await open(B.url, 'erin');
    process.kill(B.pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const answer = push(A.url, { to: { user: 'erin' }, event: 'late', data: 1 });
      // Delivery does not wait for the count.
      assert.deepEqual(await mine.rec.next('late'), [1]);
      const delivered = Date.now() - started;
      const r = await answer;
      assert.equal(r.status, 202);
      assert.deepEqual(r.json, { sockets: 1, complete: false });
      const answered = Date.now() - started;
      assert.ok(answered >= 1400, `answered at requestsTimeout (${answered} ms)`);
      assert.ok(delivered < answered, `delivered at ${delivered} ms, answered at ${answered} ms`);
    } finally {
      process.kill(B.pid, 'SIGCONT');
    }
    const r = await push(A.url, { to: { user: 'erin' }, event: 'late', data: 2 });
    assert.deepEqual(r.json, { sockets: 2, complete: true });
  });
});
