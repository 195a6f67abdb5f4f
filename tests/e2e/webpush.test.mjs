// End-to-end: the webpush plugin (plugins/webpush) in the real binary against
// a stand-in push service (lib/push-service.mjs: HTTPS on 127.0.0.1 with a
// certificate made here). Browsers register their subscriptions with
// `webpush.subscribe` over socket.io-client; the API server's
// POST /api/v1/webpush reaches the users who are not connected; the
// stand-in checks every request with third-party code (`jws` verifies the
// VAPID JWT, `http_ece` decrypts the aes128gcm body); 404/410 remove a
// subscription; 429/5xx are retried with backoff, Retry-After honoured;
// the bounded queue drops and counts what does not fit.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import jwt from 'jsonwebtoken';
import webpush from 'web-push';

import { PushService, makeCert, verifiedCount } from './lib/push-service.mjs';
import { WS, connected, io } from './lib/sio.mjs';
import { pluginsDir, startServer, tempFiles } from './lib/server.mjs';
import { hmacSecret, request, withTimeout } from './lib/util.mjs';

const webpushSo = path.join(pluginsDir, 'webpush', 'webpush.so');

const { dir, file } = tempFiles('daheim-webpush-');
after(() => {
  rmSync(dir, { recursive: true, force: true });
  console.log(`# Web Push requests verified by jws and decrypted by http_ece: ${verifiedCount()}`);
});

const userKey = hmacSecret(32);
const bearer = crypto.randomBytes(32).toString('base64url');
const SUBJECT = 'mailto:ops@daheim.example';
// web-push's own key generator: a base64url private scalar and public point.
const vapidKeys = webpush.generateVAPIDKeys();
const tls = makeCert(dir);

function webpushConfig(extra = {}) {
  return {
    vapid: { subject: SUBJECT, privateKeyFile: file('vapid.key', `${vapidKeys.privateKey}\n`), publicKey: vapidKeys.publicKey },
    bearerSecretFile: file('webpush.secret', bearer),
    caFile: tls.cert,
    ttl: 60,
    retryBaseMs: 50,
    retryMaxMs: 2000,
    maxAttempts: 3,
    ...extra,
  };
}

function serverConfig(wp = webpushConfig()) {
  return {
    testHandler: undefined,
    auth: {
      hmacSecretFiles: [{ path: file('users.key', userKey), alg: 'HS256', kid: 'u' }],
      audiences: ['realtime'],
      tokenSources: ['auth', 'query'],
    },
    plugins: [{ path: webpushSo, config: wp }],
  };
}

const userToken = (sub) => jwt.sign({ sub, aud: 'realtime' }, userKey, { algorithm: 'HS256', keyid: 'u', expiresIn: '1h' });
const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 5000, event);
const until = async (what, fn, ms = 10000) => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('webpush plugin', () => {
  let srv;
  let service;
  const sockets = [];

  async function open(user) {
    const socket = io(srv.url, { forceNew: true, reconnection: false, transports: WS, auth: { token: userToken(user) } });
    sockets.push(socket);
    await connected(socket);
    return socket;
  }

  // A user subscribes `browser` from a socket, then leaves (unless `stay`).
  async function subscribe(user, browser, { stay = false } = {}) {
    const socket = await open(user);
    assert.deepEqual(await call(socket, 'webpush.subscribe', browser.subscription), {});
    if (!stay) socket.disconnect();
    return socket;
  }

  async function api(method, p, body, credential = bearer) {
    const headers = { 'content-type': 'application/json' };
    if (credential) headers.authorization = `Bearer ${credential}`;
    const res = await request(`${srv.url}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let json;
    try {
      json = JSON.parse(res.body);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, body: res.body };
  }
  const send = (body, credential) => api('POST', '/api/v1/webpush', body, credential);
  const stats = async () => (await api('GET', '/api/v1/webpush/stats')).json;
  // Sends until the users' sockets are gone from the server's view (a
  // disconnect reaches the server a little after the client's).
  async function sendOffline(body, offline) {
    return until(`${offline} offline user(s)`, async () => {
      const r = await send(body);
      assert.equal(r.status, 202, r.body);
      return r.json.offline === offline ? r : null;
    });
  }

  before(async () => {
    srv = await startServer(serverConfig());
    service = await new PushService(tls, { vapidPublicKey: vapidKeys.publicKey, subject: SUBJECT }).start();
    assert.match(srv.logs(), new RegExp(`VAPID key ${vapidKeys.publicKey}`));
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    if (service) await service.stop();
  });

  it('gives clients the VAPID public key for pushManager.subscribe()', async () => {
    const s = await open('reader');
    assert.deepEqual(await call(s, 'webpush.publicKey'), { publicKey: vapidKeys.publicKey });
    s.disconnect();
  });

  it('delivers to an offline user: VAPID verified by jws, body decrypted by http_ece', async () => {
    const phone = service.browser('teacher-phone');
    const laptop = service.browser('teacher-laptop');
    await subscribe('teacher1', phone);
    await subscribe('teacher1', laptop);
    const data = { type: 'studentWaiting', studentId: 's-1', text: 'Grüße ✓' };
    const r = await sendOffline({ users: ['teacher1'], data, ttl: 120, urgency: 'high', topic: 'waiting' }, 1);
    assert.deepEqual(r.json, { users: 1, offline: 1, queued: 2, dropped: 0 });
    for (const b of [phone, laptop]) {
      const m = await b.next();
      assert.deepEqual(m.errors, []);
      assert.deepEqual(JSON.parse(m.plaintext), data);
      assert.equal(m.ttl, '120');
      assert.equal(m.urgency, 'high');
      assert.equal(m.topic, 'waiting');
      assert.deepEqual(m.jwtHeader, { typ: 'JWT', alg: 'ES256' });
      assert.equal(m.claims.aud, service.origin);
    }
    // A fresh sender key per message.
    assert.notEqual(phone.received[0].senderKey, laptop.received[0].senderKey);
  });

  it('a string is sent as it is; defaults for TTL and urgency come from the config', async () => {
    const b = service.browser('plain');
    await subscribe('plain-user', b);
    await sendOffline({ users: ['plain-user'], data: 'just text' }, 1);
    const m = await b.next();
    assert.deepEqual(m.errors, []);
    assert.equal(m.plaintext, 'just text');
    assert.equal(m.ttl, '60');
    assert.equal(m.urgency, 'normal');
    assert.equal(m.topic, undefined);
  });

  it('skips users who are connected, unless onlyOffline is false', async () => {
    const online = service.browser('online');
    const offline = service.browser('offline');
    const stay = await subscribe('online-user', online, { stay: true });
    await subscribe('offline-user', offline);
    const r = await sendOffline({ users: ['online-user', 'offline-user', 'nobody'], data: { n: 1 } }, 2);
    assert.deepEqual(r.json, { users: 3, offline: 2, queued: 1, dropped: 0 });
    assert.deepEqual(JSON.parse((await offline.next()).plaintext), { n: 1 });
    const all = await send({ users: ['online-user'], data: { n: 2 }, onlyOffline: false });
    assert.deepEqual(all.json, { users: 1, offline: 1, queued: 1, dropped: 0 });
    assert.deepEqual(JSON.parse((await online.next()).plaintext), { n: 2 });
    assert.equal(online.received.length, 1); // the first send skipped it
    stay.disconnect();
  });

  for (const status of [404, 410]) {
    it(`${status} from the push service removes the subscription`, async () => {
      const b = service.browser(`gone-${status}`);
      await subscribe(`gone-${status}`, b);
      b.answer(status);
      const before = await stats();
      await sendOffline({ users: [`gone-${status}`], data: 'x' }, 1);
      const m = await b.next();
      assert.deepEqual([m.status, m.errors], [status, []]);
      await until('the removal', async () => (await stats()).gone === before.gone + 1);
      const s = await stats();
      assert.equal(s.subscriptions, before.subscriptions - 1);
      assert.equal(s.retried, before.retried);
      const again = await send({ users: [`gone-${status}`], data: 'y' });
      assert.deepEqual(again.json, { users: 1, offline: 1, queued: 0, dropped: 0 });
    });
  }

  it('429 is retried after Retry-After, 503 with backoff, then delivered', async () => {
    const b = service.browser('busy');
    await subscribe('busy-user', b);
    b.answer({ status: 429, headers: { 'retry-after': '1' } }, 503);
    const before = await stats();
    await sendOffline({ users: ['busy-user'], data: { retry: true } }, 1);
    const first = await b.next();
    const second = await b.next();
    const third = await b.next();
    assert.deepEqual([first.status, second.status, third.status], [429, 503, 201]);
    for (const m of [first, second, third]) {
      assert.deepEqual(m.errors, []);
      assert.deepEqual(JSON.parse(m.plaintext), { retry: true });
    }
    // Retry-After: 1 (not the 50 ms base), then the doubled base (100 ms).
    assert.ok(second.at - first.at >= 950, `retried after ${second.at - first.at} ms`);
    assert.ok(third.at - second.at >= 90, `retried after ${third.at - second.at} ms`);
    // Each attempt is encrypted again.
    assert.notEqual(first.senderKey, second.senderKey);
    await until('the delivery', async () => (await stats()).delivered >= before.delivered + 1);
    const s = await stats();
    assert.equal(s.retried, before.retried + 2);
    assert.equal(s.subscriptions, before.subscriptions); // kept
  });

  it('gives up after maxAttempts and keeps the subscription', async () => {
    const b = service.browser('down');
    await subscribe('down-user', b);
    b.answer(500, 502, 500, 500);
    const before = await stats();
    await sendOffline({ users: ['down-user'], data: 'z' }, 1);
    for (let i = 0; i < 3; i++) assert.equal((await b.next()).status, [500, 502, 500][i]);
    await until('the failure', async () => (await stats()).failed === before.failed + 1);
    const s = await stats();
    assert.equal(s.subscriptions, before.subscriptions);
    assert.equal(s.queue, 0);
    assert.equal(b.received.length, 3);
  });

  it('refuses bad subscriptions with a coded error', async () => {
    const s = await open('picky');
    const good = service.browser('x').subscription;
    const bad = [
      { ...good, endpoint: 'http://127.0.0.1/plain' },
      { ...good, keys: { ...good.keys, p256dh: good.keys.auth } },
      { ...good, keys: { ...good.keys, auth: 'AAAA' } },
      'not an object',
    ];
    for (const sub of bad) assert.deepEqual(await call(s, 'webpush.subscribe', sub), { error: 'invalidSubscription' });
    assert.deepEqual(await call(s, 'webpush.subscribe', good), {});
    assert.deepEqual(await call(s, 'webpush.unsubscribe', { endpoint: good.endpoint }), { removed: true });
    assert.deepEqual(await call(s, 'webpush.unsubscribe', good.endpoint), { removed: false });
    s.disconnect();
  });

  it('answers bad API requests with 4xx JSON errors', async () => {
    assert.equal((await send({ users: ['a'], data: 1 }, null)).status, 401);
    assert.equal((await send({ users: ['a'], data: 1 }, 'wrong'.repeat(10))).status, 401);
    assert.equal((await api('GET', '/api/v1/webpush/stats', undefined, null)).status, 401);
    const cases = [
      [{ users: [], data: 1 }, 'bad_target'],
      [{ users: 'a', data: 1 }, 'bad_target'],
      [{ users: ['a'] }, 'missing_data'],
      [{ users: ['a'], data: 'x'.repeat(3994) }, 'payload_too_large'],
      [{ users: ['a'], data: 1, ttl: -1 }, 'bad_ttl'],
      [{ users: ['a'], data: 1, urgency: 'urgent' }, 'bad_urgency'],
      [{ users: ['a'], data: 1, topic: 'no spaces' }, 'bad_topic'],
      [{ users: ['a'], data: 1, extra: 1 }, 'unknown_field'],
    ];
    for (const [body, code] of cases) {
      const r = await send(body);
      assert.equal(r.status, 400, r.body);
      assert.equal(r.json.error, code, r.body);
    }
    const raw = await request(`${srv.url}/api/v1/webpush`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
      body: '{nope',
    });
    assert.equal(raw.status, 400);
    assert.equal(service.unknown.length, 0, service.unknown.join());
  });
});

describe('webpush plugin: limits and start-up', () => {
  it('drops and counts what does not fit', async () => {
    const svc = await new PushService(tls, { vapidPublicKey: vapidKeys.publicKey, subject: SUBJECT }).start();
    const srv = await startServer(serverConfig(webpushConfig({ maxQueue: 2, workers: 1 })));
    try {
      const browsers = [0, 1, 2, 3].map((i) => svc.browser(`q${i}`));
      const socket = io(srv.url, { forceNew: true, reconnection: false, transports: WS, auth: { token: userToken('q') } });
      await connected(socket);
      for (const b of browsers) assert.deepEqual(await call(socket, 'webpush.subscribe', b.subscription), {});
      const r = await request(`${srv.url}/api/v1/webpush`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ users: ['q'], data: 'q', onlyOffline: false }),
      });
      assert.equal(r.status, 202, r.body);
      assert.deepEqual(JSON.parse(r.body), { users: 1, offline: 1, queued: 2, dropped: 2 });
      socket.disconnect();
      // The log line arrives through a pipe: wait for it.
      await until('the log line', () => /queue full: 2 message\(s\) for user q dropped/.test(srv.logs()));
    } finally {
      await srv.stop();
      await svc.stop();
    }
  });

  it('takes a PEM VAPID key (PKCS#8 or SEC1) and checks a given public key against it', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const raw = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]).toString('base64url');
    for (const type of ['pkcs8', 'sec1']) {
      const pem = file(`vapid-${type}.pem`, privateKey.export({ type, format: 'pem' }));
      const srv = await startServer(serverConfig(webpushConfig({ vapid: { subject: SUBJECT, privateKeyFile: pem } })));
      try {
        assert.match(srv.logs(), new RegExp(`VAPID key ${raw} `));
      } finally {
        assert.deepEqual(await srv.stop(), { code: 0, signal: null });
      }
    }
    const pem = file('vapid-other.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const mismatch = webpushConfig({ vapid: { subject: SUBJECT, privateKeyFile: pem, publicKey: vapidKeys.publicKey } });
    await assert.rejects(startServer(serverConfig(mismatch)), /code 78[\s\S]*config: vapid\.publicKey: does not belong to the private key/);
  });

  it('a bad VAPID key fails the start-up with the key named (exit 78)', async () => {
    const bad = webpushConfig({ vapid: { subject: SUBJECT, privateKeyFile: file('bad.key', 'not a key'), publicKey: vapidKeys.publicKey } });
    await assert.rejects(startServer(serverConfig(bad)), /code 78[\s\S]*config: vapid\.privateKeyFile: .*bad\.key holds neither PEM nor a base64url key/);
    const noSubject = webpushConfig({ vapid: { subject: 'ops@example', privateKeyFile: file('k', vapidKeys.privateKey), publicKey: vapidKeys.publicKey } });
    await assert.rejects(startServer(serverConfig(noSubject)), /code 78[\s\S]*config: vapid\.subject: must be a mailto: or https: URL/);
  });
});

describe('push plugin + webpush plugin: "webPush" in POST /api/v1/push', () => {
  const pushSo = path.join(pluginsDir, 'push', 'push.so');
  const pushBearer = crypto.randomBytes(32).toString('base64url');
  let srv;
  let svc;
  before(async () => {
    svc = await new PushService(tls, { vapidPublicKey: vapidKeys.publicKey, subject: SUBJECT }).start();
    const cfg = serverConfig();
    cfg.plugins.push({ path: pushSo, config: { bearerSecretFile: file('push.secret', pushBearer) } });
    srv = await startServer(cfg);
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    if (svc) await svc.stop();
  });

  const push = async (body) => {
    const r = await request(`${srv.url}/api/v1/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pushBearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, json: JSON.parse(r.body), body: r.body };
  };

  it('online users get the event, offline users a Web Push of it', async () => {
    const phone = svc.browser('away-teacher');
    const desk = svc.browser('present-teacher');
    const away = io(srv.url, { forceNew: true, reconnection: false, transports: WS, auth: { token: userToken('t-away') } });
    await connected(away);
    assert.deepEqual(await call(away, 'webpush.subscribe', phone.subscription), {});
    away.disconnect();
    const here = io(srv.url, { forceNew: true, reconnection: false, transports: WS, auth: { token: userToken('t-here') } });
    await connected(here);
    assert.deepEqual(await call(here, 'webpush.subscribe', desk.subscription), {});
    const got = new Promise((resolve) => here.once('studentWaiting', resolve));
    const body = {
      to: { users: ['t-away', 't-here'] },
      event: 'studentWaiting',
      data: { studentId: 's-7' },
      webPush: { ttl: 120, urgency: 'high' },
    };
    // The server sees t-away's socket leave a little after the client.
    const r = await until('t-away offline', async () => {
      const res = await push(body);
      assert.equal(res.status, 202, res.body);
      return res.json.sockets === 1 ? res : null;
    });
    assert.deepEqual(r.json, { sockets: 1, webPush: { queued: 1 } });
    assert.deepEqual(await withTimeout(got, 5000, 'the event'), { studentId: 's-7' });
    const m = await phone.next();
    assert.deepEqual(m.errors, []);
    assert.deepEqual(JSON.parse(m.plaintext), { event: 'studentWaiting', data: { studentId: 's-7' } });
    assert.equal(m.ttl, '120');
    assert.equal(m.urgency, 'high');
    assert.equal(desk.received.length, 0); // t-here is connected
    here.disconnect();
  });

  it('webPush.data replaces the notification; only user targets take webPush', async () => {
    const b = svc.browser('custom');
    const s = io(srv.url, { forceNew: true, reconnection: false, transports: WS, auth: { token: userToken('t-custom') } });
    await connected(s);
    assert.deepEqual(await call(s, 'webpush.subscribe', b.subscription), {});
    s.disconnect();
    const r = await until('t-custom offline', async () => {
      const res = await push({ to: { user: 't-custom' }, event: 'x', webPush: { data: { title: 'Hi' } } });
      return res.json.sockets === 0 ? res : null;
    });
    assert.deepEqual(r.json, { sockets: 0, webPush: { queued: 1 } });
    assert.deepEqual(JSON.parse((await b.next()).plaintext), { title: 'Hi' });
    for (const [body, code] of [
      [{ to: { room: 'r' }, event: 'x', webPush: true }, 'bad_target'],
      [{ to: { user: 'u' }, event: 'x', webPush: { ttl: -1 } }, 'bad_webpush'],
      [{ to: { user: 'u' }, event: 'x', webPush: { urgency: 'now' } }, 'bad_webpush'],
      [{ to: { user: 'u' }, event: 'x', webPush: { nope: 1 } }, 'bad_webpush'],
      [{ to: { user: 'u' }, event: 'x', webPush: 'yes' }, 'bad_webpush'],
    ]) {
      const res = await push(body);
      assert.equal(res.status, 400, res.body);
      assert.equal(res.json.error, code, res.body);
    }
  });
});
