// End-to-end: the push plugin (plugins/push) in the real binary. The API
// server's `POST /api/v1/push` with a bearer secret or a service JWT reaches
// every socket of a user, of a list of users, of a room, or everybody; every
// bad request gets a clear 4xx JSON answer; a plugin without a credential
// fails the start-up (exit 78). Rooms are joined with the alpha test
// plugin's `$join` (plugins/test/alpha.cpp).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import jwt from 'jsonwebtoken';

import { POLLING, Recorder, UPGRADE, WS, connected, io } from './lib/sio.mjs';
import { binaryPath, pluginsDir, startServer, tempFiles } from './lib/server.mjs';
import { hmacSecret, request, withTimeout } from './lib/util.mjs';

const alphaSo = path.join(pluginsDir, 'test', 'alpha.so');
const pushSo = path.join(pluginsDir, 'push', 'push.so');

const { dir, file } = tempFiles('daheim-push-');

const userKey = hmacSecret(32);
const bearer = crypto.randomBytes(32).toString('base64url');
const jwtSecret = crypto.randomBytes(48).toString('base64url');
const MAX_BODY = 2048;

function pushConfig(extra = {}) {
  return {
    // The secret file ends with a newline, as `echo` writes it.
    bearerSecretFile: file('push.secret', `${bearer}\n`),
    serviceJwt: { audience: 'push', issuer: 'daheim-api' },
    maxBody: MAX_BODY,
    ...extra,
  };
}

function serverConfig(push = pushConfig()) {
  return {
    testHandler: undefined,
    auth: {
      // The service key is one of the server's keys: the host verifies service tokens for the plugin.
      hmacSecretFiles: [
        { path: file('users.key', userKey), alg: 'HS256', kid: 'u' },
        { path: file('push-jwt.secret', jwtSecret), alg: 'HS256', kid: 'api' },
      ],
      audiences: ['realtime'],
      tokenSources: ['auth', 'query'],
    },
    plugins: [{ path: alphaSo, config: { workers: 1 } }, { path: pushSo, config: push }],
  };
}

const userToken = (sub, role = 'student') =>
  jwt.sign({ sub, role, aud: 'realtime' }, userKey, { algorithm: 'HS256', keyid: 'u', expiresIn: '1h' });
// A service token; opts.expiresIn null: no exp claim from the options.
function serviceToken(claims = {}, opts = {}, secret = jwtSecret) {
  const o = { algorithm: 'HS256', expiresIn: '5m', ...opts };
  if (o.expiresIn === null) delete o.expiresIn;
  return jwt.sign({ iss: 'daheim-api', aud: 'push', sub: 'api', ...claims }, secret, o);
}

const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 5000, event);

describe('push plugin', () => {
  let srv;
  let url;
  const sockets = [];

  // A connected socket (authentication is required) with a Recorder.
  async function open(token, transports = WS) {
    const socket = io(url, {
      forceNew: true,
      reconnection: false,
      autoConnect: false,
      transports,
      auth: { token },
    });
    sockets.push(socket);
    const rec = new Recorder(socket);
    const up = connected(socket);
    socket.connect();
    await up;
    await rec.next('welcome'); // alpha's greeting: the plugins have seen the socket
    return { socket, rec };
  }

  // POST /api/v1/push; resolves with { status, json, headers }.
  async function push(body, { credential = bearer, headers = {}, raw = false, method = 'POST' } = {}) {
    const h = { 'content-type': 'application/json', ...headers };
    if (credential !== null) h.authorization = `Bearer ${credential}`;
    const res = await request(`${url}/api/v1/push`, {
      method,
      headers: h,
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
    let json;
    try {
      json = JSON.parse(res.body);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, headers: res.headers, body: res.body };
  }

  // Every socket has received everything pushed before this returns: a
  // marker to everybody, awaited on each socket (one connection is ordered).
  let markers = 0;
  async function settle(all) {
    const n = ++markers;
    const r = await push({ to: { all: true }, event: 'marker', data: n });
    assert.equal(r.status, 202, r.body);
    for (const { rec } of all) assert.deepEqual(await rec.next('marker'), [n]);
  }

  let alice1, alice2, bob, carol, erin;
  before(async () => {
    srv = await startServer(serverConfig());
    url = srv.url;
    assert.match(srv.logs(), /serving POST \/api\/v1\/push/);
    alice1 = await open(userToken('alice'), WS);
    alice2 = await open(userToken('alice'), POLLING);
    bob = await open(userToken('bob', 'teacher'), UPGRADE);
    carol = await open(userToken('7'), WS); // a numeric-looking id
    erin = await open(userToken('erin', 'teacher'), WS);
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    rmSync(dir, { recursive: true, force: true });
  });
  const everyone = () => [alice1, alice2, bob, carol, erin];

  it('to one user: every tab of that user, nobody else', async () => {
    const r = await push({ to: { user: 'alice' }, event: 'note', data: { text: 'hi', n: [1, 2] } });
    assert.equal(r.status, 202, r.body);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.deepEqual(r.json, { sockets: 2 });
    assert.deepEqual(await alice1.rec.next('note'), [{ text: 'hi', n: [1, 2] }]);
    assert.deepEqual(await alice2.rec.next('note'), [{ text: 'hi', n: [1, 2] }]);
    await settle(everyone());
    for (const s of [bob, carol, erin]) assert.equal(s.rec.count('note'), 0);
  });

  it('to a user id given as a number, and to a user who is not online', async () => {
    const r = await push({ to: { user: 7 }, event: 'numeric', data: 'x' });
    assert.deepEqual([r.status, r.json], [202, { sockets: 1 }]);
    assert.deepEqual(await carol.rec.next('numeric'), ['x']);
    const none = await push({ to: { user: 'nobody' }, event: 'numeric', data: 'y' });
    assert.deepEqual([none.status, none.json], [202, { sockets: 0 }]);
    await settle(everyone());
    assert.equal(alice1.rec.count('numeric') + bob.rec.count('numeric') + erin.rec.count('numeric'), 0);
  });

  it('to a list of users: each once, duplicates and offline users counted once / not at all', async () => {
    const r = await push({ to: { users: ['alice', 'bob', 'alice', 'ghost'] }, event: 'many', data: null });
    assert.deepEqual([r.status, r.json], [202, { sockets: 3 }]);
    for (const s of [alice1, alice2, bob]) assert.deepEqual(await s.rec.next('many'), [null]);
    await settle(everyone());
    for (const s of [alice1, alice2, bob]) assert.equal(s.rec.count('many'), 1);
    assert.equal(carol.rec.count('many') + erin.rec.count('many'), 0);
  });

  it('to a room: its members only (rooms joined by another plugin)', async () => {
    assert.equal(await call(bob.socket, 'join', 'lobby'), true);
    assert.equal(await call(erin.socket, 'join', 'lobby'), true);
    const r = await push({ to: { room: 'lobby' }, event: 'roomie', data: { room: 'lobby' } });
    assert.equal(r.status, 202, r.body);
    // Exact when the host can count a room's members; null when it cannot.
    assert.ok(r.json.sockets === 2 || r.json.sockets === null, r.body);
    assert.deepEqual(await bob.rec.next('roomie'), [{ room: 'lobby' }]);
    assert.deepEqual(await erin.rec.next('roomie'), [{ room: 'lobby' }]);
    await settle(everyone());
    assert.equal(alice1.rec.count('roomie') + alice2.rec.count('roomie') + carol.rec.count('roomie'), 0);
  });

  it("to the host's own rooms: a user's room and a socket's id, counted exactly", async () => {
    const r = await push({ to: { room: 'user-alice' }, event: 'userRoom' });
    assert.deepEqual([r.status, r.json], [202, { sockets: 2 }]);
    // No data: the event has no argument.
    assert.deepEqual(await alice1.rec.next('userRoom'), []);
    assert.deepEqual(await alice2.rec.next('userRoom'), []);
    const one = await push({ to: { room: erin.socket.id }, event: 'direct', data: 1 });
    assert.deepEqual([one.status, one.json], [202, { sockets: 1 }]);
    assert.deepEqual(await erin.rec.next('direct'), [1]);
    const empty = await push({ to: { room: 'nobody-here' }, event: 'direct', data: 2 });
    assert.equal(empty.status, 202);
    assert.ok(empty.json.sockets === 0 || empty.json.sockets === null, empty.body);
    await settle(everyone());
    assert.equal(bob.rec.count('userRoom') + bob.rec.count('direct') + alice1.rec.count('direct'), 0);
  });

  it('to everybody, over every transport', async () => {
    const r = await push({ to: { all: true }, event: 'broadcast', data: [1, 'two', { three: 3 }] });
    assert.deepEqual([r.status, r.json], [202, { sockets: 5 }]);
    for (const s of everyone()) assert.deepEqual(await s.rec.next('broadcast'), [[1, 'two', { three: 3 }]]);
  });

  it('counts follow sockets leaving', async () => {
    const extra = await open(userToken('dave'), WS);
    assert.deepEqual((await push({ to: { user: 'dave' }, event: 'x' })).json, { sockets: 1 });
    extra.socket.disconnect();
    // The server sees the socket leave a little after the client does.
    const deadline = Date.now() + 5000;
    let n = (await push({ to: { user: 'dave' }, event: 'x' })).json.sockets;
    while (n !== 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      n = (await push({ to: { user: 'dave' }, event: 'x' })).json.sockets;
    }
    assert.equal(n, 0);
    assert.deepEqual((await push({ to: { all: true }, event: 'x' })).json, { sockets: 5 });
  });

  it('webPush without a webpush plugin: the event is delivered, webPush says unavailable', async () => {
    const r = await push({ to: { user: 'bob' }, event: 'wp', data: 1, webPush: { ttl: 60 } });
    assert.deepEqual([r.status, r.json], [202, { sockets: 1, webPush: { error: 'unavailable' } }]);
    assert.deepEqual(await bob.rec.next('wp'), [1]);
    const room = await push({ to: { room: 'lobby' }, event: 'wp', webPush: true });
    assert.deepEqual([room.status, room.json.error], [400, 'bad_target']);
  });

  it('accepts a service JWT (HS256, aud push, issuer checked)', async () => {
    const r = await push({ to: { user: 'bob' }, event: 'viaJwt', data: 'ok' }, { credential: serviceToken() });
    assert.deepEqual([r.status, r.json], [202, { sockets: 1 }]);
    assert.deepEqual(await bob.rec.next('viaJwt'), ['ok']);
  });

  describe('bad credentials: 401 with a JSON error, nothing delivered', () => {
    const bad = {
      'no Authorization header': { credential: null },
      'an empty bearer': { credential: '' },
      'a wrong secret': { credential: crypto.randomBytes(32).toString('base64url') },
      'the secret with a suffix': { credential: `${bearer}x` },
      'a prefix of the secret': { credential: bearer.slice(0, -1) },
      'the Basic scheme': { credential: null, headers: { authorization: `Basic ${Buffer.from(`api:${bearer}`).toString('base64')}` } },
      'a token of the wrong audience': { credential: serviceToken({ aud: 'realtime' }) },
      'an expired token': { credential: serviceToken({ exp: Math.floor(Date.now() / 1000) - 120 }, { expiresIn: null }) },
      'a token without exp': { credential: serviceToken({}, { expiresIn: null }) },
      'a token of another issuer': { credential: serviceToken({ iss: 'someone' }) },
      'a token signed with another secret': { credential: serviceToken({}, {}, crypto.randomBytes(48)) },
      'a token with alg none': {
        credential: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
          JSON.stringify({ aud: 'push', iss: 'daheim-api', exp: Math.floor(Date.now() / 1000) + 60 }),
        ).toString('base64url')}.`,
      },
      "a user's realtime token": { credential: userToken('alice') },
    };
    for (const [name, opts] of Object.entries(bad)) {
      it(name, async () => {
        const r = await push({ to: { all: true }, event: 'forbidden' }, opts);
        assert.equal(r.status, 401, r.body);
        assert.equal(r.json.error, 'unauthorized');
        assert.equal(typeof r.json.message, 'string');
        assert.match(r.headers['content-type'], /^application\/json/);
      });
    }
    it('checks the credential before the body', async () => {
      const r = await push('{not json', { credential: 'wrong', raw: true });
      assert.equal(r.status, 401);
    });
    it('delivered none of them, and logs refusals without the credential', async () => {
      await settle(everyone());
      for (const s of everyone()) assert.equal(s.rec.count('forbidden'), 0);
      assert.match(srv.logs(), /refused a push from 127\.0\.0\.1/);
      assert.ok(!srv.logs().includes(bearer.slice(0, -1)), 'the secret is not logged');
    });
  });

  describe('bad requests: 4xx with a JSON error', () => {
    const cases = [
      ['bad JSON', '{"to": {"all": true}, "event": ', 400, 'bad_json'],
      ['an empty body', '', 400, 'bad_json'],
      ['a JSON array', '[]', 400, 'bad_json'],
      ['a JSON string', '"push"', 400, 'bad_json'],
      ['trailing garbage', '{"to": {"all": true}, "event": "e"} x', 400, 'bad_json'],
      ['an unknown field', { to: { all: true }, event: 'e', priority: 'high' }, 400, 'unknown_field', /priority/],
      ['an unknown target field', { to: { group: 'g' }, event: 'e' }, 400, 'unknown_field', /to\.group/],
      ['no target', { event: 'e', data: 1 }, 400, 'missing_target'],
      ['an empty target', { to: {}, event: 'e' }, 400, 'missing_target'],
      ['a target that is not an object', { to: 'alice', event: 'e' }, 400, 'bad_target'],
      ['two targets', { to: { user: 'alice', all: true }, event: 'e' }, 400, 'bad_target'],
      ['an empty user id', { to: { user: '' }, event: 'e' }, 400, 'bad_target'],
      ['a user id that is an object', { to: { user: { id: 1 } }, event: 'e' }, 400, 'bad_target'],
      ['an empty users list', { to: { users: [] }, event: 'e' }, 400, 'bad_target'],
      ['users that is not a list', { to: { users: 'alice' }, event: 'e' }, 400, 'bad_target'],
      ['a bad id in users', { to: { users: ['alice', null] }, event: 'e' }, 400, 'bad_target'],
      ['an empty room', { to: { room: '' }, event: 'e' }, 400, 'bad_target'],
      ['all: false', { to: { all: false }, event: 'e' }, 400, 'bad_target'],
      ['no event', { to: { all: true }, data: 1 }, 400, 'missing_event'],
      ['an empty event', { to: { all: true }, event: '' }, 400, 'bad_event'],
      ['an event that is not a string', { to: { all: true }, event: 42 }, 400, 'bad_event'],
      ['a reserved event', { to: { all: true }, event: 'disconnect' }, 400, 'bad_event', /reserved/],
      ['another reserved event', { to: { all: true }, event: 'connect_error' }, 400, 'bad_event'],
    ];
    for (const [name, body, status, code, message] of cases) {
      it(name, async () => {
        const r = await push(body, { raw: typeof body === 'string' });
        assert.equal(r.status, status, r.body);
        assert.equal(r.json.error, code, r.body);
        assert.equal(typeof r.json.message, 'string');
        if (message) assert.match(r.json.message, message);
        assert.match(r.headers['content-type'], /^application\/json/);
      });
    }

    // The same Content-Length rule as the Engine.IO POSTs: a length no limit
    // admits is 413 however many digits it has (it was once read as no body).
    it('a Content-Length of 14 digits: 413, before the plugin runs', async () => {
      const { port } = new URL(url);
      const head = await new Promise((resolve, reject) => {
        const s = net.connect(Number(port), '127.0.0.1', () =>
          s.write(
            `POST /api/v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${bearer}\r\n` +
              'Content-Type: application/json\r\nContent-Length: 99999999999999\r\n\r\n{}',
          ),
        );
        let got = '';
        s.on('data', (d) => {
          got += d;
          if (got.includes('\r\n\r\n')) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
        s.on('close', () => resolve(got));
      });
      assert.match(head, /^HTTP\/1\.1 413 /);
    });

    it('a body over maxBody: 413, before the plugin runs', async () => {
      const big = { to: { all: true }, event: 'big', data: 'x'.repeat(MAX_BODY) };
      const r = await push(big);
      assert.equal(r.status, 413, r.body);
      assert.equal(r.json.error, 'payload_too_large');
      // Even with a bad credential: the size is checked first, by the server.
      assert.equal((await push(big, { credential: 'wrong' })).status, 413);
      // Exactly maxBody is fine.
      const fit = JSON.stringify({ to: { all: true }, event: 'fit', data: '' });
      const exact = JSON.stringify({ to: { all: true }, event: 'fit', data: 'y'.repeat(MAX_BODY - fit.length) });
      assert.equal(Buffer.byteLength(exact), MAX_BODY);
      const ok = await push(exact, { raw: true });
      assert.deepEqual([ok.status, ok.json], [202, { sockets: 5 }]);
    });

    it('a method other than POST: 405', async () => {
      const r = await push(undefined, { method: 'GET' });
      assert.equal(r.status, 405);
    });

    it('delivered none of the bad requests', async () => {
      await settle(everyone());
      for (const s of everyone()) for (const e of ['e', 'big']) assert.equal(s.rec.count(e), 0);
      for (const s of everyone()) assert.equal(s.rec.count('fit'), 1);
    });
  });
});

describe('push plugin: configuration errors stop the start-up (exit 78)', () => {
  function start(push) {
    const cfgDir = mkdtempSync(path.join(tmpdir(), 'daheim-push-cfg-'));
    const cfg = path.join(cfgDir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ listen: '127.0.0.1:0', plugins: [{ path: pushSo, config: push }] }));
    const r = spawnSync(binaryPath, ['--config', cfg], { encoding: 'utf8', timeout: 10000 });
    rmSync(cfgDir, { recursive: true, force: true });
    return r;
  }
  const short = mkdtempSync(path.join(tmpdir(), 'daheim-push-short-'));
  after(() => rmSync(short, { recursive: true, force: true }));
  const cases = [
    ['no credential', {}, /push.*bearerSecretFile and\/or serviceJwt/],
    ['no config at all', null, /push.*bearerSecretFile and\/or serviceJwt/],
    ['an unknown key', { devBearerSecret: 'x'.repeat(32), bearerSecret: 'y' }, /unknown key "bearerSecret"/],
    ['a missing secret file', { bearerSecretFile: '/nonexistent/push.secret' }, /cannot read \/nonexistent\/push\.secret/],
    ['a short secret', { bearerSecretFile: (() => { const p = path.join(short, 's'); writeFileSync(p, 'short\n'); return p; })() }, /fewer than 32 bytes/],
    ['a JWT config without audience', { devBearerSecret: 'x'.repeat(32), serviceJwt: {} }, /serviceJwt\.audience is required/],
    ['a JWT secret in the plugin (moved to the server)', { serviceJwt: { secretFile: '/dev/null', audience: 'push' } }, /serviceJwt\.secretFile: .*server's auth section/],
    ['a service JWT without the server checking tokens', { serviceJwt: { audience: 'push' } }, /serviceJwt: the server verifies no tokens/],
    ['a bad maxBody', { devBearerSecret: 'x'.repeat(32), maxBody: 'big' }, /maxBody/],
  ];
  for (const [name, push, re] of cases) {
    it(name, () => {
      const r = start(push);
      assert.equal(r.status, 78, r.stderr);
      assert.match(r.stderr, re);
    });
  }
});
