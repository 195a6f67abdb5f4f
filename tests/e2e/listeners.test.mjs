// Listeners: TLS (wss and https polling) with self-signed certificates made
// here by `openssl req`, a public and an internal listener serving different
// things (one of them on IPv6), the certificate swapped live on SIGHUP, and
// the config errors of the "listeners" key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

import { binaryPath, pluginsDir, rssBytes, startServer } from './lib/server.mjs';
import { POLLING, Pool, WS, cmd, connected } from './lib/sio.mjs';
import { rawWs, request, withTimeout } from './lib/util.mjs';


const dir = mkdtempSync(path.join(tmpdir(), 'daheim-listeners-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A self-signed certificate for 127.0.0.1, ::1 and localhost.
function makeCert(name, type = 'ec') {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const keyArgs =
    type === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  const r = spawnSync('openssl', [
    'req', '-x509', ...keyArgs, '-nodes', '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost', '-keyout', key, '-out', cert,
  ], { encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl req: ${r.stderr}`);
  const pem = readFileSync(cert, 'utf8');
  return { cert, key, pem, fingerprint: new crypto.X509Certificate(pem).fingerprint256 };
}

// What a fresh TLS handshake with the listener shows: { fingerprint, alpn }.
function handshake(port, host = '127.0.0.1', ALPNProtocols = undefined) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const s = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols }, () => {
        resolve({ fingerprint: s.getPeerCertificate().fingerprint256, alpn: s.alpnProtocol });
        s.destroy();
      });
      s.on('error', reject);
    }),
    5000,
    `TLS handshake with ${host}:${port}`,
  );
}

// GET over https trusting `ca`; resolves with { status, body }.
function httpsGet(url, ca) {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      })
      .on('error', reject);
  });
}

// A server on the socketio-e2e fixture with `listeners` instead of listen.
function start(listeners, extra = {}) {
  return startServer(
    { testHandler: 'socketio-e2e', socketio: { namespaces: ['/'] }, drainTime: 1000, listen: undefined, listeners, ...extra },
    { listen: null },
  );
}

describe('a TLS listener', () => {
  let srv;
  let a;
  const pool = new Pool();
  before(async () => {
    a = makeCert('a');
    srv = await start([{ listen: '127.0.0.1:0', tls: { cert: a.cert, key: a.key } }]);
  });
  after(async () => {
    pool.close();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('logs its https address and presents the certificate, HTTP/1.1 only', async () => {
    assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(srv.listeners.map((l) => [l.url, l.serves]), [
      [srv.url, ['socketio', 'demo', 'metrics', 'plugins', 'admin']],
    ]);
    const h = await handshake(srv.port, '127.0.0.1', ['h2', 'http/1.1']);
    assert.equal(h.fingerprint, a.fingerprint);
    assert.equal(h.alpn, 'http/1.1');
  });

  for (const [name, transports] of [
    ['wss (websocket only)', WS],
    ['https long-polling', POLLING],
  ]) {
    it(`${name}: socket.io-client trusting only the certificate connects and gets acks`, async () => {
      const { socket, hello } = await pool.connect(srv.url, '/', { transports, ca: a.pem });
      assert.equal(hello.transport, transports[0]);
      assert.deepEqual(await cmd(socket, 'echo', { über: 'tls' }, 7), { über: 'tls' });
      assert.equal((await httpsGet(`${srv.url}/healthz`, a.pem)).status, 200);
    });
  }

  it('a client trusting another certificate is refused; plain HTTP gets no handshake', async () => {
    const other = makeCert('other');
    await assert.rejects(pool.connect(srv.url, '/', { transports: WS, ca: other.pem }, 5000));
    const plain = await request(`http://127.0.0.1:${srv.port}/socket.io/?EIO=4&transport=polling`, {
      timeout: 3000,
    }).catch((err) => ({ status: err.code }));
    assert.notEqual(plain.status, 200);
  });
});

// socket.io's handshake.secure: true when the connection is encrypted, as
// fetchSockets() (and so the admin UI and the other nodes) reports it.
describe('the handshake of a socket on a TLS listener', () => {
  let srv;
  const pool = new Pool();
  after(async () => {
    pool.close();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('is secure over wss and https polling, not over ws and http polling', async () => {
    const c = makeCert('secure');
    srv = await start([{ listen: '127.0.0.1:0', tls: { cert: c.cert, key: c.key } }, { listen: '127.0.0.1:0' }]);
    const [secure, plain] = srv.listeners;
    const expected = new Map();
    for (const [listener, transports] of [[secure, WS], [secure, POLLING], [plain, WS], [plain, POLLING]]) {
      const { hello } = await pool.connect(listener.url, '/', { transports, ca: c.pem });
      expected.set(hello.id, listener === secure);
    }
    const { socket } = await pool.connect(plain.url, '/', { transports: WS });
    const got = await cmd(socket, 'fetch-sockets', {});
    assert.equal(got.complete, true);
    const seen = new Map(got.sockets.filter((s) => expected.has(s.id)).map((s) => [s.id, s.handshake.secure]));
    assert.deepEqual(seen, expected);
  });
});

// Two TLS handshakes in a row, the second offering the session the first got
// (a ticket, or a session ID when the server issues no tickets); resolves
// with what Node's tls saw: [first resumed, second resumed, got a session].
async function resumeTwice(port, maxVersion) {
  const once = (session) =>
    withTimeout(
      new Promise((resolve, reject) => {
        let got;
        const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, session, maxVersion });
        s.on('session', (x) => (got = x));
        s.on('error', reject);
        s.on('secureConnect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
        // TLS 1.3 tickets come after the handshake: the answer is read after them.
        s.once('data', () => {
          const reused = s.isSessionReused();
          s.end();
          s.once('close', () => resolve({ reused, session: got }));
        });
      }),
      5000,
      `TLS handshake (${maxVersion}) with port ${port}`,
    );
  const a = await once(undefined);
  const b = await once(a.session);
  return [a.reused, b.reused, a.session !== undefined];
}

describe('TLS session resumption', () => {
  const servers = [];
  after(async () => {
    for (const s of servers) assert.deepEqual(await s.stop(), { code: 0, signal: null }, s.logs());
  });
  async function tlsServer(name, type, extra = {}) {
    const c = makeCert(name, type);
    const srv = await start([{ listen: '127.0.0.1:0', tls: { cert: c.cert, key: c.key, ...extra } }]);
    servers.push(srv);
    return srv;
  }

  for (const type of ['ec', 'rsa']) {
    it(`on by default (${type === 'ec' ? 'ECDSA P-256' : 'RSA-2048'}): the second handshake is resumed, TLS 1.3 and 1.2`, async () => {
      const srv = await tlsServer(`resume-${type}`, type);
      assert.deepEqual(await resumeTwice(srv.port, 'TLSv1.3'), [false, true, true]);
      assert.deepEqual(await resumeTwice(srv.port, 'TLSv1.2'), [false, true, true]);
    });
  }

  it('without tickets, TLS 1.2 resumes from the session cache and TLS 1.3 by stateful tickets', async () => {
    const srv = await tlsServer('resume-cache', 'ec', { sessionTickets: false });
    assert.deepEqual(await resumeTwice(srv.port, 'TLSv1.2'), [false, true, true]);
    assert.deepEqual(await resumeTwice(srv.port, 'TLSv1.3'), [false, true, true]);
  });

  it('with neither tickets nor a cache, nothing is resumed', async () => {
    const srv = await tlsServer('resume-off', 'ec', { sessionTickets: false, sessionCacheSize: 0 });
    assert.deepEqual(await resumeTwice(srv.port, 'TLSv1.3'), [false, false, false]);
    assert.deepEqual(await resumeTwice(srv.port, 'TLSv1.2'), [false, false, false]);
  });

  it('an idle connection stays small, and a TLS one gives its record buffers back (RSS per connection)', async (t) => {
    const c = makeCert('idle');
    const srv = await start([
      { listen: '127.0.0.1:0', tls: { cert: c.cert, key: c.key } },
      { listen: '127.0.0.1:0' },
    ]);
    servers.push(srv);
    const [secure, plain] = srv.listeners;
    const opened = [];
    // Engine.IO sessions over WebSocket, each waiting for its open packet.
    const open = async (url, n) => {
      for (let i = 0; i < n; ++i) {
        const h = await rawWs(url, 'EIO=4&transport=websocket', '/socket.io/', { ca: c.pem });
        assert.match((await h.next()).data, /^0\{"sid"/);
        opened.push(h);
      }
    };
    try {
      await open(plain.url, 30); // warm-up: the allocator's first pages
      await open(secure.url, 30);
      const n = 300;
      const r0 = rssBytes(srv.pid);
      await open(plain.url, n);
      const r1 = rssBytes(srv.pid);
      await open(secure.url, n);
      const r2 = rssBytes(srv.pid);
      const plainPer = (r1 - r0) / n;
      const tlsPer = (r2 - r1) / n;
      t.diagnostic(`RSS per idle connection: plain ${Math.round(plainPer)} B, TLS ${Math.round(tlsPer)} B`);
      // OpenSSL 3's own state per connection is ~14.2 KB in 37 blocks
      // (bench/openssl_heap.c; measured here: ~15.1 KB of RSS over a plain
      // connection); holding its read and write buffers adds ~12 KB more
      // (measured with SSL_MODE_RELEASE_BUFFERS cleared: ~26 KB over plain).
      assert.ok(tlsPer - plainPer < 17 * 1024, `TLS ${tlsPer} B against plain ${plainPer} B per connection`);
      // An idle Engine.IO session over WebSocket (Socket.IO client attached,
      // no namespace joined): ~2,330 B here; ~2,375 B before the session's
      // byte counter and flags and ConnectionState's session entry were packed
      // (BENCHMARKS.md 10.13); ~2,590 B before the peek and
      // phase timers were allocated on use, the session table became an
      // IdIndex, the query pairs were read from the URL and the session,
      // frame queue and decoder were made smaller (BENCHMARKS.md 10.11);
      // ~2,800 B before the sid went inline, ConnectionState's role members
      // into a union and the WebSocket handshake's own headers out of the
      // record (10.9), ~2,950 B before the handshake became one record
      // (10.7), ~3,450 B before the session's timers, frame queue and client
      // were made smaller (10.4).
      assert.ok(plainPer < 2500, `plain ${plainPer} B per idle connection`);
    } finally {
      for (const h of opened) h.ws.terminate();
    }
  });
});

// ::1 may be missing (a container without IPv6): then both listeners use IPv4.
async function ipv6Loopback() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

describe('a public and an internal listener', () => {
  let srv;
  let pub;
  let internal;
  let v6;
  const pool = new Pool();
  const bearer = crypto.randomBytes(24).toString('base64url');
  before(async () => {
    v6 = await ipv6Loopback();
    const secret = path.join(dir, 'push.secret');
    writeFileSync(secret, bearer);
    srv = await start(
      [
        { listen: '127.0.0.1:0', serve: ['socketio', 'demo'] },
        { listen: v6 ? '[::1]:0' : '127.0.0.1:0', serve: ['metrics', 'plugins'] },
      ],
      {
        testHandler: undefined,
        demo: { enabled: true },
        plugins: [{ path: path.join(pluginsDir, 'push', 'push.so'), config: { bearerSecretFile: secret } }],
      },
    );
    [pub, internal] = srv.listeners;
  });
  after(async () => {
    pool.close();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('both are bound and logged with what they serve', (t) => {
    if (!v6) t.diagnostic('no IPv6 loopback here: the internal listener uses 127.0.0.1');
    assert.equal(srv.listeners.length, 2);
    assert.equal(pub.url, srv.url);
    assert.deepEqual(pub.serves, ['socketio', 'demo']);
    assert.deepEqual(internal.serves, ['metrics', 'plugins']);
    assert.match(internal.url, v6 ? /^http:\/\/\[::1\]:\d+$/ : /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(pub.port, internal.port);
  });

  it('metrics and health only on the internal one, the demo only on the public one', async () => {
    for (const p of ['/metrics', '/healthz']) {
      assert.equal((await request(pub.url + p)).status, 404, p);
      assert.equal((await request(internal.url + p)).status, 200, p);
    }
    assert.equal((await request(pub.url + '/')).status, 200);
    assert.equal((await request(internal.url + '/')).status, 404);
  });

  it('Engine.IO only on the public one, over polling and WebSocket', async () => {
    const q = '/socket.io/?EIO=4&transport=polling';
    assert.equal((await request(pub.url + q)).status, 200);
    assert.equal((await request(internal.url + q)).status, 404);
    const refused = await rawWs(internal.url, 'EIO=4&transport=websocket');
    assert.equal(refused.unexpected, 404);
    const open = await rawWs(pub.url, 'EIO=4&transport=websocket');
    assert.match((await open.next()).data, /^0\{"sid"/);
    open.ws.terminate();
  });

  it('a push to the internal one reaches a client of the public one, and metrics count it', async () => {
    const { socket } = await connectPlain(pool, pub.url);
    const got = new Promise((resolve) => socket.once('news', resolve));
    const body = JSON.stringify({ to: { all: true }, event: 'news', data: { n: 1 } });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${bearer}` };
    const refused = await request(`${pub.url}/api/v1/push`, { method: 'POST', headers, body });
    assert.equal(refused.status, 404);
    const res = await request(`${internal.url}/api/v1/push`, { method: 'POST', headers, body });
    assert.equal(res.status, 202, res.body);
    assert.deepEqual(await withTimeout(got, 5000, 'news'), { n: 1 });
    const metrics = (await request(internal.url + '/metrics')).body;
    assert.match(metrics, /^daheim_engineio_sessions\{transport="websocket"\} 1$/m);
  });
});

// lws picks a vhost by port number and Host header; listeners sharing a
// port on two addresses must still each answer only their own services.
describe('two listeners on one port number, two addresses', () => {
  it('each answers what it serves, whatever the Host header says', async () => {
    const port = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    const srv = await start([
      { listen: `127.0.0.1:${port}`, serve: ['socketio'] },
      { listen: `127.0.0.2:${port}`, serve: ['metrics'] },
    ]);
    try {
      const pub = `http://127.0.0.1:${port}`;
      const internal = `http://127.0.0.2:${port}`;
      for (const host of [undefined, 'listener 0', 'listener 1', '127.0.0.2', 'l']) {
        const headers = host ? { host } : {};
        const q = '/socket.io/?EIO=4&transport=polling';
        assert.equal((await request(pub + '/metrics', { headers })).status, 404, `public, Host ${host}`);
        assert.equal((await request(pub + q, { headers })).status, 200, `public, Host ${host}`);
        assert.equal((await request(internal + '/metrics', { headers })).status, 200, `internal, Host ${host}`);
        assert.equal((await request(internal + q, { headers })).status, 404, `internal, Host ${host}`);
      }
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });
});

// A socket.io-client without the fixture's greeting (no testHandler).
async function connectPlain(pool, url) {
  const m = pool.manager(url, { transports: WS });
  const socket = m.socket('/');
  const up = connected(socket);
  socket.connect();
  await up;
  return { socket };
}

describe('SIGHUP swaps the TLS certificate live', () => {
  let srv;
  let a;
  let b;
  let live;
  const pool = new Pool();
  before(async () => {
    a = makeCert('swap-a', 'ec');
    b = makeCert('swap-b', 'rsa'); // another key type: nothing of A may stay behind
    live = { cert: path.join(dir, 'live.pem'), key: path.join(dir, 'live.key') };
    copyFileSync(a.cert, live.cert);
    copyFileSync(a.key, live.key);
    srv = await start([{ listen: '127.0.0.1:0', tls: live }]);
  });
  after(async () => {
    pool.close();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  // SIGHUP, then wait for the reload's last line (applied or refused), which
  // comes after any certificate error.
  async function hup(pattern) {
    const reloads = () => (srv.logs().match(/<\d>reload(ed| refused)/g) ?? []).length;
    const before = reloads();
    srv.child.kill('SIGHUP');
    const deadline = Date.now() + 5000;
    while (reloads() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(srv.logs(), pattern);
  }

  it('new handshakes get the new certificate, the connected client stays and gets acks', async () => {
    assert.equal((await handshake(srv.port)).fingerprint, a.fingerprint);
    const first = await pool.connect(srv.url, '/', { transports: WS, ca: [a.pem, b.pem] });
    let dropped = false;
    first.socket.on('disconnect', () => (dropped = true));
    assert.deepEqual(await cmd(first.socket, 'echo', 'before'), 'before');

    copyFileSync(b.cert, live.cert);
    copyFileSync(b.key, live.key);
    await hup(/certificate reloaded from .*live\.pem/);

    assert.equal((await handshake(srv.port)).fingerprint, b.fingerprint);
    assert.equal(first.socket.connected, true);
    assert.deepEqual(await cmd(first.socket, 'echo', 'after'), 'after');
    // socket.io-client trusting only B connects now.
    const second = await pool.connect(srv.url, '/', { transports: WS, ca: b.pem });
    assert.deepEqual(await cmd(second.socket, 'echo', 'new'), 'new');
    assert.equal(dropped, false);
  });

  it('a broken or mismatched replacement is logged and the current certificate stays', async () => {
    const first = await pool.connect(srv.url, '/', { transports: WS, ca: [a.pem, b.pem] });
    writeFileSync(live.cert, 'not a certificate\n');
    await hup(/<3>listener 0 \(https:\/\/127\.0\.0\.1:\d+\): keeping the current certificate: .*live\.pem/);
    assert.equal((await handshake(srv.port)).fingerprint, b.fingerprint);

    copyFileSync(a.cert, live.cert); // with B's key
    await hup(/private key .*live\.key does not belong to the certificate .*live\.pem/);
    assert.equal((await handshake(srv.port)).fingerprint, b.fingerprint);

    rmSync(live.cert);
    await hup(/reload refused, keeping the running configuration: .*key listeners\[0\]\.tls\.cert: cannot read .*live\.pem/);
    assert.equal((await handshake(srv.port)).fingerprint, b.fingerprint);

    assert.equal(srv.child.exitCode, null);
    assert.equal(first.socket.connected, true);
    assert.deepEqual(await cmd(first.socket, 'echo', 'still'), 'still');
  });
});

describe('config errors in listeners', () => {
  function configFile(config) {
    const d = mkdtempSync(path.join(dir, 'cfg-'));
    const file = path.join(d, 'config.json');
    writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
    return file;
  }
  function run(config, args = []) {
    const file = configFile(config);
    const r = spawnSync(binaryPath, ['--config', file, ...args], { encoding: 'utf8', timeout: 10000 });
    return { ...r, file };
  }
  let good;
  before(() => {
    good = makeCert('good');
  });

  it('an unknown key, in a listener or its tls, is named', () => {
    let r = run({ listeners: [{ listen: '127.0.0.1:0' }, { listen: '127.0.0.1:0', port: 1 }] });
    assert.equal(r.status, 78);
    assert.equal(r.stderr.trim(), `daheim-live: config error: ${r.file}: key listeners[1].port: unknown key`);
    r = run({ listeners: [{ listen: '127.0.0.1:0', tls: { cert: good.cert, key: good.key, ca: 'x' } }] });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /key listeners\[0\]\.tls\.ca: unknown key/);
    r = run({ listeners: [{ listen: '127.0.0.1:0', tls: { cert: good.cert, key: good.key, sessionCacheSize: -1 } }] });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /key listeners\[0\]\.tls\.sessionCacheSize: expected an integer from 0 to 16777216/);
    r = run({ listeners: [{ listen: '127.0.0.1:0', tls: { cert: good.cert, key: good.key, sessionTickets: 1 } }] });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /key listeners\[0\]\.tls\.sessionTickets: expected true or false/);
  });

  it('an unknown serve name, a bad address, both listen and listeners', () => {
    let r = run({ listeners: [{ listen: '127.0.0.1:0', serve: ['metrics', 'ftp'] }] });
    assert.equal(r.status, 78);
    assert.match(r.stderr, new RegExp(`${r.file}: key listeners\\[0\\]\\.serve: unknown "ftp"`));
    r = run({ listeners: [{ listen: 'nowhere' }] });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /key listeners\[0\]\.listen: expected HOST:PORT/);
    r = run({ listen: '127.0.0.1:0', listeners: [{ listen: '127.0.0.1:0' }] });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /key listeners: give either listen or listeners/);
    r = run({ listeners: [{ listen: '127.0.0.1:4000' }, { listen: '127.0.0.1:4000' }] });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /key listeners\[1\]\.listen: the same address as listeners\[0\]/);
  });

  it('a missing certificate file, relative to the config file', () => {
    const r = run({ listeners: [{ listen: '127.0.0.1:0', tls: { cert: 'missing.pem', key: good.key } }] });
    assert.equal(r.status, 78);
    const missing = path.join(path.dirname(r.file), 'missing.pem');
    assert.equal(
      r.stderr.trim(),
      `daheim-live: config error: ${r.file}: key listeners[0].tls.cert: cannot read ${missing}: No such file or directory`,
    );
  });

  it('--check-config accepts good listeners; a certificate that does not load stops the start', () => {
    const ok = { listeners: [{ listen: '127.0.0.1:0', tls: { cert: good.cert, key: good.key }, serve: ['socketio'] }] };
    assert.equal(spawnSync(binaryPath, ['--check-config', configFile(ok)]).status, 0);
    const junk = path.join(dir, 'junk.pem');
    writeFileSync(junk, 'junk\n');
    const r = run({ listeners: [{ listen: '127.0.0.1:0', tls: { cert: junk, key: good.key } }] });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, new RegExp(`config error: ${r.file}: key listeners\\[0\\]\\.tls: no valid PEM certificate in ${junk}`));
    assert.doesNotMatch(r.stderr, /listening on/);
  });
});
