// JWT authentication end to end: tokens minted by the jsonwebtoken npm
// package (an independent implementation) for every algorithm, over both
// token sources, the attack matrix, key rotation on SIGHUP, expiry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { writeFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';
import { scrape } from './lib/metrics.mjs';
import { startServer, tempFiles } from './lib/server.mjs';
import { hmacSecret } from './lib/util.mjs';

const { dir, file } = tempFiles('daheim-auth-');

const secrets = { HS256: hmacSecret(32), HS384: hmacSecret(48), HS512: hmacSecret(64) };
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec256 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed = crypto.generateKeyPairSync('ed25519');
const rotA = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rotB = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k) => k.publicKey.export({ type: 'spki', format: 'pem' });
const jwk = (k, kid) => ({ ...k.publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' });
const jwksFile = file('keys.jwks', JSON.stringify({ keys: [jwk(rotA, 'rot-a'), jwk(rotB, 'rot-b')] }));

function authConfig(extra = {}) {
  return {
    hmacSecretFiles: Object.entries(secrets).map(([alg, s]) => ({ path: file(`${alg}.key`, s), alg, kid: alg })),
    publicKeys: [
      ...['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'].map((alg) => ({ path: file('rsa.pem', pem(rsa)), alg, kid: alg })),
      { path: file('ec256.pem', pem(ec256)), alg: 'ES256', kid: 'ES256' },
      { path: file('ec384.pem', pem(ec384)), alg: 'ES384', kid: 'ES384' },
      { path: file('ed.pem', pem(ed)), alg: 'EdDSA', kid: 'EdDSA' },
    ],
    jwksFiles: [jwksFile],
    issuers: ['daheim-api'],
    audiences: ['realtime'],
    leeway: 0,
    ...extra,
  };
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra = {}) => ({ sub: 'alice', role: 'student', iss: 'daheim-api', aud: 'realtime', ...extra });

function sign(alg, extra = {}, opts = {}) {
  const key = alg.startsWith('HS') ? secrets[alg]
    : alg === 'EdDSA' ? ed.privateKey
    : alg.startsWith('ES384') ? ec384.privateKey
    : alg.startsWith('ES') ? ec256.privateKey : rsa.privateKey;
  if (alg === 'EdDSA') {
    // jsonwebtoken 9 does not sign EdDSA: build it with node's crypto.
    const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${enc({ alg: 'EdDSA', typ: 'JWT', kid: 'EdDSA' })}.${enc({ iat: Math.floor(Date.now() / 1000), ...claims(extra) })}`;
    return `${input}.${crypto.sign(null, Buffer.from(input), ed.privateKey).toString('base64url')}`;
  }
  return jwt.sign(claims(extra), key, { algorithm: alg, keyid: alg, ...opts });
}

function attempt(url, opts) {
  return new Promise((resolve) => {
    const s = io(url, { transports: ['websocket'], reconnection: false, ...opts });
    s.on('connect', () => resolve({ ok: true, socket: s }));
    s.on('connect_error', (err) => {
      s.close();
      resolve({ ok: false, message: err.message, code: err.data?.code });
    });
  });
}

const byQuery = (url, token) => attempt(url, { query: { access_token: token } });
const byAuth = (url, token) => attempt(url, { auth: { token } });

describe('JWT authentication', () => {
  let srv;
  const open = [];
  before(async () => {
    srv = await startServer({ testHandler: 'socketio-e2e', socketio: { namespaces: ['/'] }, auth: authConfig() });
  });
  after(async () => {
    open.forEach((s) => s.close());
    await srv.stop();
  });
  const keep = (r) => { if (r.socket) open.push(r.socket); return r; };

  for (const alg of ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']) {
    it(`accepts ${alg} over the query parameter and the auth payload`, async () => {
      const token = sign(alg);
      const q = keep(await byQuery(srv.url, token));
      assert.equal(q.ok, true, `${alg} by query: ${q.code}`);
      const a = keep(await byAuth(srv.url, token));
      assert.equal(a.ok, true, `${alg} by auth: ${a.code}`);
    });
  }

  it('accepts keys from a JWKS file selected by kid', async () => {
    const t = jwt.sign(claims(), rotB.privateKey, { algorithm: 'ES256', keyid: 'rot-b' });
    assert.equal(keep(await byAuth(srv.url, t)).ok, true);
  });

  const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
  const hs = (header, payload) => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${crypto.createHmac('sha256', secrets.HS256).update(input).digest('base64url')}`;
  };
  let nested = { sub: 'x' };
  for (let i = 0; i < 100; i++) nested = { n: nested };
  const good = () => sign('HS256');
  const attacks = [
    ['missing token', () => undefined, 'missing_token'],
    ['expired', () => sign('HS256', { exp: now() - 10 }), 'token_expired'],
    ['not yet valid', () => sign('HS256', { nbf: now() + 3600 }), 'token_not_yet_valid'],
    ['wrong audience', () => sign('HS256', { aud: 'billing' }), 'invalid_audience'],
    ['wrong issuer', () => sign('HS256', { iss: 'evil' }), 'invalid_issuer'],
    ['wrong signature', () => jwt.sign(claims(), crypto.randomBytes(32), { algorithm: 'HS256', keyid: 'HS256' }), 'invalid_signature'],
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`, 'algorithm_not_allowed'],
    ['HS256 signed with the RSA public key (confusion)', () => {
      const input = `${b64({ alg: 'HS256', kid: 'RS256' })}.${b64(claims())}`;
      return `${input}.${crypto.createHmac('sha256', pem(rsa)).update(input).digest('base64url')}`;
    }, 'algorithm_not_allowed'],
    ['unknown kid', () => jwt.sign(claims(), secrets.HS256, { algorithm: 'HS256', keyid: 'nope' }), 'unknown_key'],
    ['truncated', () => good().split('.').slice(0, 2).join('.'), 'malformed'],
    ['bad base64url', () => good().replace('.', '.*'), 'malformed'],
    ['non-JSON header', () => `${b64('not json')}.${b64(claims())}.sig`, 'malformed'],
    ['8 KiB token', () => hs({ alg: 'HS256', kid: 'HS256' }, claims({ pad: 'x'.repeat(8192) })), 'malformed'],
    ['deeply nested claims', () => hs({ alg: 'HS256', kid: 'HS256' }, claims(nested)), 'malformed'],
  ];
  for (const [name, make, code] of attacks) {
    it(`refuses ${name} with ${code}`, async () => {
      const r = await byAuth(srv.url, make());
      assert.equal(r.ok, false);
      assert.equal(r.message, 'unauthorized');
      assert.equal(r.code, code);
    });
  }

  it('counts refusals by reason in /metrics', async () => {
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(text, /daheim_auth_refusals_total\{reason="malformed"\} [1-9]/);
    assert.match(text, /daheim_auth_refusals_total\{reason="token_expired"\} [1-9]/);
    assert.doesNotMatch(srv.logs(), new RegExp(good().split('.')[2]), 'tokens never logged');
  });
});

describe('key rotation, expiry and rate limiting', () => {
  it('SIGHUP drops a JWKS key: existing sockets stay, new tokens with that kid are refused', async () => {
    const jwks = file('rot.jwks', JSON.stringify({ keys: [jwk(rotA, 'rot-a'), jwk(rotB, 'rot-b')] }));
    const srv = await startServer({ testHandler: 'socketio-e2e', auth: { jwksFiles: [jwks], audiences: ['realtime'] } });
    const tokA = jwt.sign(claims(), rotA.privateKey, { algorithm: 'ES256', keyid: 'rot-a' });
    const tokB = jwt.sign(claims(), rotB.privateKey, { algorithm: 'ES256', keyid: 'rot-b' });
    const a = await byAuth(srv.url, tokA);
    assert.equal(a.ok, true);
    try {
      writeFileSync(jwks, JSON.stringify({ keys: [jwk(rotB, 'rot-b')] }));
      srv.child.kill('SIGHUP');
      for (let i = 0; i < 250 && !/auth keys reloaded/.test(srv.logs()); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(srv.logs(), /auth keys reloaded/);
      assert.equal((await byAuth(srv.url, tokA)).code, 'unknown_key');
      const b = await byAuth(srv.url, tokB);
      assert.equal(b.ok, true);
      b.socket.close();
      assert.equal(a.socket.connected, true, 'the rot-a socket stayed connected');
      const pong = await a.socket.timeout(2000).emitWithAck('echo', 'still here');
      assert.equal(pong, 'still here');
    } finally {
      a.socket.close();
      await srv.stop();
    }
  });

  it('disconnects a socket when its token expires', async () => {
    const srv = await startServer({ testHandler: 'socketio-e2e', auth: authConfig() });
    try {
      const token = sign('HS256', { exp: now() + 2 });
      const r = await byAuth(srv.url, token);
      assert.equal(r.ok, true);
      const told = new Promise((res) => r.socket.on('unauthorized', res));
      const [reason] = await new Promise((res) => r.socket.on('disconnect', (...args) => res(args)));
      assert.equal(reason, 'io server disconnect');
      assert.deepEqual(await told, { code: 'token_expired' });
      assert.match(srv.logs(), /token of \S+ expired/);
    } finally {
      await srv.stop();
    }
  });

  it('$auth.refresh extends a live socket; another user or a bad token is refused', async () => {
    const srv = await startServer({ testHandler: '', auth: authConfig() });
    try {
      const r = await byAuth(srv.url, sign('HS256', { exp: now() + 2 }));
      assert.equal(r.ok, true);
      let disconnected = false;
      r.socket.on('disconnect', () => { disconnected = true; });
      const other = await r.socket.timeout(2000).emitWithAck('auth.refresh', { token: sign('HS256', { sub: 'mallory', exp: now() + 60 }) });
      assert.equal(other.error, 'user_mismatch');
      const bad = await r.socket.timeout(2000).emitWithAck('auth.refresh', { token: sign('HS256', { exp: now() - 5 }) });
      assert.equal(bad.error, 'token_expired');
      const ok = await r.socket.timeout(2000).emitWithAck('auth.refresh', { token: sign('HS256', { exp: now() + 60 }) });
      assert.deepEqual(ok, {});
      await new Promise((res) => setTimeout(res, 3000));
      assert.equal(disconnected, false, 'still connected after the first token expired');
      r.socket.close();
    } finally {
      await srv.stop();
    }
  });

  it('rate-limits failed attempts per address', async () => {
    const srv = await startServer({ testHandler: 'socketio-e2e', auth: authConfig({ maxFailures: 3 }) });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await byAuth(srv.url, 'junk')).code, 'malformed');
      assert.equal((await byAuth(srv.url, sign('HS256'))).code, 'rate_limited');
    } finally {
      await srv.stop();
    }
  });

  // An address is not kept once its window has passed (within two windows of its first failure),
  // so a table of addresses seen once does not grow for ever (README "Soak").
  it('forgets an address once its failure window has passed (daheim_auth_failure_addresses)', async () => {
    const window = 1000;
    const srv = await startServer({ testHandler: 'socketio-e2e', auth: authConfig({ maxFailures: 3, failureWindow: window }) });
    try {
      const addresses = async () => (await scrape(srv.url)).value('daheim_auth_failure_addresses');
      for (let i = 0; i < 3; i++) assert.equal((await byAuth(srv.url, 'junk')).code, 'malformed');
      assert.equal(await addresses(), 1);
      const deadline = Date.now() + 2 * window + 10000;
      while ((await addresses()) !== 0) {
        assert.ok(Date.now() < deadline, `address still tracked after ${2 * window} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await byAuth(srv.url, sign('HS256'));
      assert.equal(r.ok, true);
      r.socket.close();
    } finally {
      assert.equal((await srv.stop()).code, 0);
    }
  });
});
