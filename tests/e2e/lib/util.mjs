// Small helpers shared by the end-to-end tests: promise wrappers around
// engine.io-client sockets, raw HTTP requests and raw WebSockets.

import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Socket } from 'engine.io-client';
import WebSocket from 'ws';

export { Socket, WebSocket };

// Random bytes for an HMAC secret file. The server drops a trailing CR/LF
// from secret files, so the last byte is never one (1 in 128 otherwise).
export function hmacSecret(bytes) {
  for (;;) {
    const secret = crypto.randomBytes(bytes);
    if (secret[bytes - 1] !== 0x0a && secret[bytes - 1] !== 0x0d) return secret;
  }
}

// Rejects with `what` when `promise` has not settled after `ms`.
export function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// Resolves with the arguments of the next `event` emitted by `emitter`.
export function once(emitter, event, ms = 5000) {
  return withTimeout(
    new Promise((resolve) => emitter.once(event, (...args) => resolve(args))),
    ms,
    `event "${event}"`,
  );
}

// Messages received by an engine.io-client socket, in order, with a way to
// wait for the next ones.
export class Inbox {
  constructor(socket) {
    this.items = [];
    this.waiters = [];
    socket.on('message', (m) => {
      this.items.push(m);
      this.wake();
    });
  }

  wake() {
    const still = [];
    for (const w of this.waiters) {
      if (this.items.length >= w.n) w.resolve(this.items.splice(0, w.n));
      else still.push(w);
    }
    this.waiters = still;
  }

  // Resolves with the next n messages.
  take(n, ms = 5000) {
    if (this.items.length >= n) return Promise.resolve(this.items.splice(0, n));
    return withTimeout(
      new Promise((resolve) => {
        this.waiters.push({ n, resolve });
      }),
      ms,
      `${n} message(s), got ${this.items.length}`,
    );
  }

  async next(ms = 5000) {
    return (await this.take(1, ms))[0];
  }
}

// Opens an engine.io-client socket and waits for 'open'.
// Resolves with { socket, inbox, closed } where closed resolves with the
// close reason.
export async function openClient(url, opts = {}, ms = 10000) {
  const socket = new Socket(url, { path: '/socket.io/', ...opts });
  const inbox = new Inbox(socket);
  const closed = new Promise((resolve) => {
    socket.on('close', (reason, details) => resolve({ reason, details }));
  });
  await withTimeout(
    new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', (err) => reject(new Error(`socket error before open: ${err?.message ?? err}`)));
      socket.once('close', (reason) => reject(new Error(`socket closed before open: ${reason}`)));
    }),
    ms,
    `engine.io-client open (${JSON.stringify(opts.transports ?? 'default')})`,
  );
  return { socket, inbox, closed };
}

export function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new Error(`not binary: ${typeof data}`);
}

// One HTTP request on a fresh connection (no keep-alive pool, so a held
// long-poll never blocks the next request). Resolves with
// { status, headers, body } (body as a string unless opts.binary).
// Rejects on a connection error before a response arrived.
// A body is sent with Content-Length unless opts.chunked.
export function request(url, { method = 'GET', headers = {}, body, timeout = 10000, binary = false, chunked = false } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined && !chunked) h['content-length'] = Buffer.byteLength(body);
    const req = http.request(url, { method, headers: h, agent: false });
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(new Error(`HTTP ${method} ${url}: no response after ${timeout} ms`));
    }, timeout);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      const done = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: binary ? buf : buf.toString('utf8') });
      };
      res.on('end', done);
      res.on('aborted', done);
      res.on('error', done);
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function eioUrl(base, query, path = '/socket.io/') {
  return `${base}${path}?${query}`;
}

// Polling handshake; resolves with the parsed open packet (and the raw body).
export async function pollingHandshake(base, path = '/socket.io/', headers = {}) {
  const res = await request(eioUrl(base, 'EIO=4&transport=polling', path), { headers });
  if (res.status !== 200) throw new Error(`handshake: status ${res.status}, body ${res.body}`);
  if (!res.body.startsWith('0')) throw new Error(`handshake: body ${res.body}`);
  return { ...JSON.parse(res.body.slice(1)), raw: res.body, res };
}

export function poll(base, sid, opts = {}, path = '/socket.io/') {
  return request(eioUrl(base, `EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, path), opts);
}

export function post(base, sid, body, opts = {}, path = '/socket.io/') {
  return request(eioUrl(base, `EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, path), {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', ...(opts.headers ?? {}) },
    body,
    ...opts,
  });
}

// A raw WebSocket to the Engine.IO endpoint. Collects frames as
// { data, isBinary } and records the close. Resolves once open, or with
// { unexpected: status } when the upgrade was refused. `options` go to ws (e.g. `ca`).
export function rawWs(base, query, path = '/socket.io/', options = undefined) {
  const url = `${base.replace(/^http/, 'ws')}${path}?${query}`;
  const ws = new WebSocket(url, options);
  const frames = [];
  const waiters = [];
  const wake = () => {
    while (waiters.length && frames.length) waiters.shift()(frames.shift());
  };
  ws.on('message', (data, isBinary) => {
    frames.push({ data: isBinary ? data : data.toString('utf8'), isBinary });
    wake();
  });
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {});
  const handle = {
    ws,
    frames,
    closed,
    next(ms = 5000) {
      if (frames.length) return Promise.resolve(frames.shift());
      return withTimeout(new Promise((resolve) => waiters.push(resolve)), ms, 'websocket frame');
    },
    isOpen: () => ws.readyState === WebSocket.OPEN,
  };
  return withTimeout(
    new Promise((resolve) => {
      ws.once('open', () => resolve(handle));
      ws.once('unexpected-response', (req, res) => {
        resolve({ ...handle, unexpected: res.statusCode });
        req.destroy();
      });
      ws.once('close', () => resolve(handle));
    }),
    5000,
    `websocket ${url}`,
  );
}

// Sends raw bytes on a new TCP connection to `srv` ({ port, host }); resolves
// with the socket and a promise of everything the server sends until it
// closes (`ended`), `received()` so far.
export function rawConnect(srv, bytes) {
  const sock = net.connect(srv.port, srv.host);
  sock.on('error', () => {});
  const chunks = [];
  sock.on('data', (c) => chunks.push(c));
  const ended = new Promise((resolve) => sock.on('close', () => resolve(Buffer.concat(chunks).toString('latin1'))));
  const connected = new Promise((resolve) => sock.once('connect', resolve));
  return connected.then(() => {
    if (bytes) sock.write(bytes);
    return { sock, ended, received: () => Buffer.concat(chunks).toString('latin1') };
  });
}

// HTTP/1.1 requests to the Engine.IO path of `srv` ({ port, host }) and their
// answers, read one at a time from a raw keep-alive connection (open() it):
// `next()` resolves with the exact bytes of the next complete answer
// (status line and headers through Content-Length bytes of body).
export class RawHttp {
  constructor(srv, path = '/socket.io/') {
    this.srv = srv;
    this.path = path;
    this.buf = Buffer.alloc(0);
    this.waiting = null;
  }
  async open() {
    this.conn = await rawConnect(this.srv);
    this.conn.sock.on('data', () => this.#wake());
    this.closed = this.conn.ended;
    return this;
  }
  // The bytes of one request.
  text(method, query, { headers = [], body, version = '1.1' } = {}) {
    const lines = [`${method} ${this.path}?${query} HTTP/${version}`, 'Host: 127.0.0.1', ...headers];
    if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    return `${lines.join('\r\n')}\r\n\r\n${body ?? ''}`;
  }
  send(method, query, options = {}) {
    this.conn.sock.write(this.text(method, query, options));
    return this.next(`${method} ${query}`);
  }
  next(what = 'the next request') {
    return withTimeout(new Promise((resolve) => {
      this.waiting = resolve;
      this.#wake();
    }), 5000, `answer to ${what}`);
  }
  #wake() {
    this.buf = Buffer.concat([this.buf, ...this.#take()]);
    const end = this.buf.indexOf('\r\n\r\n');
    if (!this.waiting || end < 0) return;
    const head = this.buf.subarray(0, end).toString('latin1');
    const len = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buf.length < end + 4 + len) return;
    const raw = this.buf.subarray(0, end + 4 + len).toString('latin1');
    this.buf = this.buf.subarray(end + 4 + len);
    const resolve = this.waiting;
    this.waiting = null;
    resolve({ raw, head, body: raw.slice(end + 4) });
  }
  #take() {
    const out = [Buffer.from(this.conn.received(), 'latin1').subarray(this.seen ?? 0)];
    this.seen = (this.seen ?? 0) + out[0].length;
    return out;
  }
}

// Resolves with 'connected' or the error code (e.g. 'ECONNREFUSED') of a
// new TCP connection to host:port; the connection is closed at once.
export function tcpConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (err) => resolve(err.code));
  });
}

// Polls `check` (sync or async) until it is true; throws naming `what` after `ms`.
export async function waitFor(what, check, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// POST /api/v1/push on the server at `url` with a bearer credential and a
// JSON body; resolves with request()'s answer.
export function postPush(url, bearer, body) {
  return request(`${url}/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify(body),
  });
}
