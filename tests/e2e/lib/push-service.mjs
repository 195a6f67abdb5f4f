// A stand-in for a Web Push service (RFC 8030) on 127.0.0.1 over HTTPS with
// a certificate made by `openssl req` at test time. Each "browser" has its
// own P-256 key pair, auth secret and endpoint, as PushManager.subscribe()
// gives a real one. Every POST is checked by third-party code: the VAPID
// JWT with `jws` (ES256, the library web-push signs with) and the body
// decrypted with `http_ece` (aes128gcm, the library web-push encrypts with).
// A browser answers the statuses it is told to, then 201.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import https from 'node:https';
import path from 'node:path';

import ece from 'http_ece';
import jws from 'jws';

// Requests whose VAPID JWT verified and whose body decrypted, in this process.
let verified = 0;
export const verifiedCount = () => verified;

// A self-signed certificate for 127.0.0.1, written into `dir`.
export function makeCert(dir, name = 'push-service') {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', key, '-out', cert,
  ], { encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl req: ${r.stderr}`);
  return { cert, key };
}

// The PEM of a base64url uncompressed P-256 point (a VAPID public key).
function pointToPem(b64) {
  const p = Buffer.from(b64, 'base64url');
  assert.equal(p.length, 65, 'a VAPID key is an uncompressed P-256 point');
  const jwk = { kty: 'EC', crv: 'P-256', x: p.subarray(1, 33).toString('base64url'), y: p.subarray(33).toString('base64url') };
  return crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
}

class Browser {
  constructor(service, name) {
    this.name = name;
    this.ecdh = crypto.createECDH('prime256v1');
    this.ecdh.generateKeys();
    this.auth = crypto.randomBytes(16);
    this.path = `/push/${name}-${crypto.randomBytes(6).toString('hex')}`;
    this.endpoint = `${service.origin}${this.path}`;
    this.statuses = []; // answered in order, then 201
    this.received = []; // every request, checked
    this.waiters = [];
  }
  get subscription() {
    return {
      endpoint: this.endpoint,
      expirationTime: null,
      keys: { p256dh: this.ecdh.getPublicKey('base64url'), auth: this.auth.toString('base64url') },
    };
  }
  // Answers the next requests with these statuses ({ status, headers }).
  answer(...statuses) {
    this.statuses.push(...statuses.map((s) => (typeof s === 'number' ? { status: s } : s)));
  }
  record(msg) {
    this.received.push(msg);
    const w = this.waiters.shift();
    if (w) w(msg);
  }
  // The next request this browser receives (in arrival order).
  next(ms = 10000) {
    const i = this.taken ?? 0;
    this.taken = i + 1;
    if (i < this.received.length) return Promise.resolve(this.received[i]);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no push after ${ms} ms`)), ms);
      this.waiters.push((m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  }
}

export class PushService {
  // vapidPublicKey: base64url point; subject: the VAPID "sub" expected.
  constructor({ cert, key }, { vapidPublicKey, subject }) {
    this.tls = { cert, key };
    this.vapidPublicKey = vapidPublicKey;
    this.vapidPem = pointToPem(vapidPublicKey);
    this.subject = subject;
    this.browsers = new Map();
    this.unknown = [];
  }

  async start() {
    const { readFileSync } = await import('node:fs');
    this.server = https.createServer(
      { cert: readFileSync(this.tls.cert), key: readFileSync(this.tls.key) },
      (req, res) => this.handle(req, res),
    );
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `https://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  stop() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }

  browser(name) {
    const b = new Browser(this, name);
    this.browsers.set(b.path, b);
    return b;
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const browser = this.browsers.get(req.url);
      if (!browser || req.method !== 'POST') {
        this.unknown.push(`${req.method} ${req.url}`);
        res.writeHead(404).end();
        return;
      }
      const msg = this.check(browser, req, body);
      if (msg.errors.length === 0) ++verified;
      const answer = browser.statuses.shift() ?? { status: 201 };
      msg.status = answer.status;
      browser.record(msg);
      res.writeHead(answer.status, answer.headers ?? {}).end();
    });
  }

  // What arrived, each check's outcome in `errors` (empty: all passed).
  check(browser, req, body) {
    const h = req.headers;
    const msg = { at: Date.now(), headers: h, ttl: h.ttl, urgency: h.urgency, topic: h.topic, errors: [] };
    const fail = (what) => msg.errors.push(what);
    if (h['content-encoding'] !== 'aes128gcm') fail(`content-encoding ${h['content-encoding']}`);
    if (h['content-type'] !== 'application/octet-stream') fail(`content-type ${h['content-type']}`);
    if (Number(h['content-length']) !== body.length) fail('content-length');
    const m = /^vapid t=([^,\s]+), k=([A-Za-z0-9_-]+)$/.exec(h.authorization ?? '');
    if (!m) {
      fail(`authorization ${h.authorization}`);
    } else {
      const [, token, k] = m;
      if (k !== this.vapidPublicKey) fail('k is not the VAPID public key');
      if (!jws.verify(token, 'ES256', this.vapidPem)) fail('the VAPID JWT signature does not verify');
      const decoded = jws.decode(token);
      msg.jwtHeader = decoded.header;
      msg.claims = typeof decoded.payload === 'string' ? JSON.parse(decoded.payload) : decoded.payload;
      const now = Math.floor(Date.now() / 1000);
      if (msg.claims.aud !== this.origin) fail(`aud ${msg.claims.aud}`);
      if (msg.claims.sub !== this.subject) fail(`sub ${msg.claims.sub}`);
      if (!(msg.claims.exp > now && msg.claims.exp <= now + 24 * 3600)) fail(`exp ${msg.claims.exp}`);
    }
    try {
      msg.plaintext = ece
        .decrypt(body, { version: 'aes128gcm', privateKey: browser.ecdh, authSecret: browser.auth.toString('base64url') })
        .toString('utf8');
      // The sender's key is fresh for every message (the header's key id).
      msg.senderKey = body.subarray(21, 21 + body[20]).toString('base64url');
    } catch (err) {
      fail(`decrypt: ${err.message}`);
    }
    return msg;
  }
}
