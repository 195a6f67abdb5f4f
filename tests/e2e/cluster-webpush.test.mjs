// The webpush plugin in a cluster: two daheim-live nodes (A, B) on one
// redis-server this file starts. Subscriptions are kept in Redis (one hash
// per user under redisKey), so a user who subscribed through A and is on no
// node gets a Web Push sent through B's POST /api/v1/push (webPush); the
// stand-in push service (lib/push-service.mjs) verifies the VAPID JWT with
// `jws` and decrypts with `http_ece`. A 410 answered to one node removes the
// subscription for both; the per-user cap holds across nodes (Lua script).
// A push answered 503 (Redis refused its broadcast) sends no Web Push.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import jwt from 'jsonwebtoken';
import webpush from 'web-push';

import { PushService, makeCert, verifiedCount } from './lib/push-service.mjs';
import { startRedis } from './lib/redis.mjs';
import { pluginsDir, startServer, tempFiles } from './lib/server.mjs';
import { WS, connected, io } from './lib/sio.mjs';
import { hmacSecret, request, withTimeout } from './lib/util.mjs';

const { dir, file } = tempFiles('daheim-cluster-webpush-');

const userKey = hmacSecret(32);
const bearer = crypto.randomBytes(32).toString('base64url');
const SUBJECT = 'mailto:ops@daheim.example';
const vapidKeys = webpush.generateVAPIDKeys();
const tls = makeCert(dir);
const userToken = (sub) => jwt.sign({ sub, aud: 'realtime' }, userKey, { algorithm: 'HS256', keyid: 'u', expiresIn: '1h' });
const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 5000, event);

let redis;
let control;
let service;
const nodes = {};
const sockets = [];

async function open(node, user) {
  const socket = io(nodes[node].url, { forceNew: true, reconnection: false, transports: WS, auth: { token: userToken(user) } });
  sockets.push(socket);
  await connected(socket);
  return socket;
}

async function api(node, p, body) {
  const res = await request(`${nodes[node].url}${p}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: JSON.parse(res.body), body: res.body };
}

// Until `fn` answers truthy (a node's script runs after its answer; a
// disconnect reaches the server a little after the client's).
async function until(what, fn, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  redis = await startRedis();
  service = await new PushService(tls, { vapidPublicKey: vapidKeys.publicKey, subject: SUBJECT }).start();
  const config = {
    testHandler: undefined,
    auth: {
      hmacSecretFiles: [{ path: file('users.key', userKey), alg: 'HS256', kid: 'u' }],
      audiences: ['realtime'],
      tokenSources: ['auth'],
    },
    plugins: [
      {
        path: path.join(pluginsDir, 'webpush', 'webpush.so'),
        config: {
          vapid: { subject: SUBJECT, privateKeyFile: file('vapid.key', `${vapidKeys.privateKey}\n`), publicKey: vapidKeys.publicKey },
          bearerSecretFile: file('webpush.secret', bearer),
          caFile: tls.cert,
          maxPerUser: 2,
          redisKey: 'wp',
        },
      },
      { path: path.join(pluginsDir, 'push', 'push.so'), config: { bearerSecretFile: file('push.secret', bearer) } },
    ],
    cluster: { redis: redis.url },
  };
  [nodes.A, nodes.B] = await Promise.all([startServer(config), startServer(config)]);
  for (const n of [nodes.A, nodes.B]) assert.match(n.logs(), /subscriptions in Redis under wp/);
  control = await redis.control();
});

after(async () => {
  for (const s of sockets) s.disconnect();
  for (const n of [nodes.A, nodes.B]) if (n) assert.deepEqual(await n.stop(), { code: 0, signal: null }, n.logs());
  await service?.stop();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`# cluster Web Push requests verified by jws and decrypted by http_ece: ${verifiedCount()}`);
});

describe('cluster: Web Push subscriptions in Redis', () => {
  test('subscribed through A, pushed through B, a 410 removes it for both', async () => {
    const phone = service.browser('cluster-phone');
    const s = await open('A', 'w-1');
    assert.deepEqual(await call(s, 'webpush.subscribe', phone.subscription), {});
    s.disconnect();
    // One hash per user: endpoint -> the subscription's JSON.
    const stored = await control.hGetAll('wp#u#w-1');
    assert.deepEqual(Object.keys(stored), [phone.endpoint]);
    assert.deepEqual(JSON.parse(stored[phone.endpoint]), { endpoint: phone.endpoint, keys: phone.subscription.keys });
    assert.equal(await control.hGet('wp#owners', phone.endpoint), 'w-1');

    // B never saw w-1: the lookup is in Redis and the message queued after
    // the answer, so the answer counts none queued yet.
    const r = await api('B', '/api/v1/push', { to: { user: 'w-1' }, event: 'studentWaiting', data: { studentId: 's-7' }, webPush: { urgency: 'high' } });
    assert.equal(r.status, 202, r.body);
    assert.deepEqual(r.json.webPush, { queued: 0 });
    const m = await phone.next();
    assert.deepEqual(m.errors, []);
    assert.equal(m.urgency, 'high');
    assert.deepEqual(JSON.parse(m.plaintext), { event: 'studentWaiting', data: { studentId: 's-7' } });

    // A sends, the push service answers 410: A removes it from Redis.
    phone.answer(410);
    const a = await until('w-1 offline on A', async () => {
      const x = await api('A', '/api/v1/webpush', { users: ['w-1'], data: 'gone?' });
      return x.json.offline === 1 ? x : null;
    });
    assert.deepEqual(a.json, { users: 1, offline: 1, queued: 0, dropped: 0, pending: 1 });
    assert.equal((await phone.next()).status, 410);
    await until('the removal', async () => (await control.exists('wp#u#w-1')) === 0);
    assert.equal(await control.hGet('wp#owners', phone.endpoint), null);
    // Neither node has it any more.
    for (const node of ['A', 'B']) {
      const t = await open(node, 'w-1');
      assert.deepEqual(await call(t, 'webpush.unsubscribe', phone.endpoint), { removed: false });
      t.disconnect();
    }
    const b = await api('B', '/api/v1/webpush', { users: ['w-1'], data: 'nothing' });
    assert.equal(b.status, 202, b.body);
    assert.equal(phone.received.length, 2);
  });

  test('the per-user cap holds across nodes: the oldest goes, another user takes a browser', async () => {
    const [b1, b2, b3] = ['c1', 'c2', 'c3'].map((n) => service.browser(n));
    const onA = await open('A', 'w-2');
    const onB = await open('B', 'w-2');
    assert.deepEqual(await call(onA, 'webpush.subscribe', b1.subscription), {});
    assert.deepEqual(await call(onB, 'webpush.subscribe', b2.subscription), {});
    assert.deepEqual(await call(onA, 'webpush.subscribe', b3.subscription), {}); // drops b1 (maxPerUser 2)
    assert.deepEqual(Object.keys(await control.hGetAll('wp#u#w-2')).sort(), [b2.endpoint, b3.endpoint].sort());
    const other = await open('B', 'w-3');
    assert.deepEqual(await call(other, 'webpush.subscribe', b2.subscription), {}); // b2 now w-3's
    assert.deepEqual(Object.keys(await control.hGetAll('wp#u#w-2')), [b3.endpoint]);
    assert.equal(await control.hGet('wp#owners', b2.endpoint), 'w-3');
    assert.deepEqual(await call(onB, 'webpush.unsubscribe', { endpoint: b3.endpoint }), { removed: true });
    assert.equal(await control.exists('wp#u#w-2'), 0);
    for (const s of [onA, onB, other]) s.disconnect();
  });

  test('a push answered 503 sends no Web Push; the next one accepted does', async () => {
    const tablet = service.browser('cluster-tablet');
    const s = await open('A', 'w-4');
    assert.deepEqual(await call(s, 'webpush.subscribe', tablet.subscription), {});
    s.disconnect();
    const push = (data) => api('B', '/api/v1/push', { to: { user: 'w-4' }, event: 'lesson', data, webPush: true });
    // Redis refuses the broadcast's PUBLISH (the subscriptions stay readable).
    await control.sendCommand(['ACL', 'SETUSER', 'default', '-publish']);
    try {
      const r = await push('refused');
      assert.equal(r.status, 503, r.body);
      assert.equal(r.json.error, 'unavailable');
      assert.equal(r.json.webPush, undefined);
    } finally {
      await control.sendCommand(['ACL', 'SETUSER', 'default', '+publish']);
    }
    const r = await push('accepted');
    assert.equal(r.status, 202, r.body);
    assert.deepEqual(r.json.webPush, { queued: 0 });
    // The first notification the tablet gets is the accepted push's.
    const m = await tablet.next();
    assert.deepEqual(JSON.parse(m.plaintext), { event: 'lesson', data: 'accepted' });
    assert.equal(tablet.received.length, 1);
  });
});
