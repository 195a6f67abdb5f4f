// Running as a service: health and metrics endpoints, reload, config and
// argument errors, and a graceful stop that socket.io-clients survive.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { scrape } from './lib/metrics.mjs';
import { binaryPath, startServer } from './lib/server.mjs';

const SOCKETIO = { testHandler: '', socketio: { namespaces: ['/', '/admin'] } };

function connect(url, opts = {}) {
  return io(url, { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 200, ...opts });
}

function waitFor(emitter, event, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (...args) => { clearTimeout(t); resolve(args); });
  });
}

function tempConfig(text) {
  const dir = mkdtempSync(path.join(tmpdir(), 'daheim-svc-'));
  const file = path.join(dir, 'config.json');
  writeFileSync(file, text);
  return file;
}

describe('health and metrics', () => {
  it('/healthz answers ok and /metrics parses as Prometheus text with live values', async () => {
    const srv = await startServer(SOCKETIO);
    const clients = [];
    try {
      const h = await fetch(`${srv.url}/healthz`);
      assert.equal(h.status, 200);
      assert.equal((await h.json()).status, 'ok');

      for (let i = 0; i < 3; i++) clients.push(connect(srv.url));
      clients.push(connect(`${srv.url}/admin`));
      clients.push(io(srv.url, { transports: ['polling'] }));
      await Promise.all(clients.map((c) => waitFor(c, 'connect')));

      const m = await scrape(srv.url);
      // The /admin socket shares its Manager's Engine.IO session.
      assert.equal(m.value('daheim_engineio_sessions', { transport: 'websocket' }), 3);
      assert.equal(m.value('daheim_engineio_sessions', { transport: 'polling' }), 1);
      assert.equal(m.value('daheim_socketio_sockets', { namespace: '/' }), 4);
      assert.equal(m.value('daheim_socketio_sockets', { namespace: '/admin' }), 1);
      assert.ok(m.value('daheim_engineio_messages_total', { direction: 'in' }) >= 5);
      assert.ok(m.value('daheim_engineio_bytes_total', { direction: 'out' }) > 0);
      assert.ok(m.value('process_resident_memory_bytes') > 1e6);
      assert.ok(m.value('process_open_fds') >= 5);
      assert.equal(m.families.daheim_engineio_sessions.type, 'GAUGE');
      assert.equal(m.families.daheim_engineio_bytes_total.type, 'COUNTER');

      const post = await fetch(`${srv.url}/metrics`, { method: 'POST' });
      assert.equal(post.status, 405);
    } finally {
      clients.forEach((c) => c.close());
      await srv.stop();
    }
  });
});

describe('configuration and arguments', () => {
  it('an unknown key exits 78 with one line naming the file and the key', () => {
    const file = tempConfig('{ "engineio": { "pingIntervall": 5 } }');
    const r = spawnSync(binaryPath, ['--config', file], { encoding: 'utf8' });
    assert.equal(r.status, 78);
    assert.equal(r.stderr.trim(), `daheim-live: config error: ${file}: key engineio.pingIntervall: unknown key`);
  });

  it('a mistyped value and a missing file exit 78', () => {
    const file = tempConfig('{ "socketio": { "connectTimeout": "soon" } }');
    let r = spawnSync(binaryPath, ['--config', file], { encoding: 'utf8' });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /key socketio\.connectTimeout: expected an integer/);
    r = spawnSync(binaryPath, ['--config', '/nonexistent/x.json'], { encoding: 'utf8' });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /\/nonexistent\/x\.json: cannot read the file/);
  });

  it('bad arguments exit 64 with the usage; --check-config validates', () => {
    let r = spawnSync(binaryPath, ['--frobnicate'], { encoding: 'utf8' });
    assert.equal(r.status, 64);
    assert.match(r.stderr, /unknown argument: --frobnicate/);
    assert.match(r.stderr, /usage: daheim-live/);
    r = spawnSync(binaryPath, ['--check-config', tempConfig('{"listen": "127.0.0.1:1"}')], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    r = spawnSync(binaryPath, ['--version'], { encoding: 'utf8' });
    assert.match(r.stdout, /^daheim-live \d+\.\d+\.\d+/);
  });
});

describe('signals', () => {
  it('SIGHUP reloads the log level from the file', async () => {
    const srv = await startServer({ ...SOCKETIO, log: { level: 'notice' } });
    try {
      const c = connect(srv.url);
      await waitFor(c, 'connect');
      c.close();
      assert.doesNotMatch(srv.logs(), /<7>/);
      writeFileSync(srv.configFile, JSON.stringify({ ...srv.config, log: { level: 'debug' } }));
      srv.child.kill('SIGHUP');
      const deadline = Date.now() + 5000;
      while (!/reloaded .*log level applied/.test(srv.logs()) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.match(srv.logs(), /reloaded .*log level applied/);
      const c2 = connect(srv.url);
      await waitFor(c2, 'connect');
      c2.close();
      const until = Date.now() + 5000;
      while (!/<7>engine\.io session/.test(srv.logs()) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.match(srv.logs(), /<7>engine\.io session \S+ opened/);
    } finally {
      await srv.stop();
    }
  });

  it('SIGUSR2 writes the heap profile of an ASan build (live chunks by stack); other builds say they have none', async () => {
    const srv = await startServer({ ...SOCKETIO, log: { level: 'notice' } });
    try {
      const c = connect(srv.url);
      await waitFor(c, 'connect');
      const metrics = await (await fetch(`${srv.url}/metrics`)).text();
      const allocator = /^daheim_heap_allocated_bytes\{allocator="(\w+)"\}/m.exec(metrics)[1];
      srv.child.kill('SIGUSR2');
      await srv.waitForLog(/heap profile: end/, 60000);
      const log = srv.logs();
      const profile = log.slice(log.indexOf('heap profile (SIGUSR2) follows'), log.indexOf('heap profile: end'));
      if (allocator === 'asan') {
        assert.match(profile, /Live Heap Allocations: \d+ bytes in \d+ chunks/);
        assert.match(profile, /\d+ byte\(s\) \(\d+%\) in \d+ allocation\(s\)\n\s+#0 0x[0-9a-f]+ in /);
      } else {
        assert.match(profile, /heap profile: only an ASan build has one/);
      }
      // The server goes on: the client's session is still there and a new one connects.
      const c2 = connect(srv.url);
      await waitFor(c2, 'connect');
      assert.equal((await (await fetch(`${srv.url}/healthz`)).json()).sessions, 2);
      c.close();
      c2.close();
    } finally {
      assert.equal((await srv.stop()).code, 0);
    }
  });

  it('SIGTERM with 1000 clients: each is told, reconnects to the restarted server, exit 0', async () => {
    const N = 1000;
    const srv = await startServer(SOCKETIO);
    const clients = [];
    let second;
    try {
      for (let i = 0; i < N; i++) clients.push(connect(srv.url));
      await Promise.all(clients.map((c) => waitFor(c, 'connect', 30000)));
      const reasons = clients.map((c) => waitFor(c, 'disconnect', 30000));
      const reconnected = clients.map(
        (c) => new Promise((resolve) => c.once('disconnect', () => c.once('connect', resolve))),
      );
      const t0 = Date.now();
      const { code } = await srv.stop('SIGTERM');
      assert.equal(code, 0, srv.logs());
      assert.ok(Date.now() - t0 < 5000, 'drained well within drainTime');
      for (const [reason] of await Promise.all(reasons)) assert.equal(reason, 'transport close');
      second = await startServer(SOCKETIO, { listen: `127.0.0.1:${srv.port}` });
      await Promise.all(reconnected);
      assert.equal(clients.filter((c) => c.connected).length, N);
      assert.doesNotMatch(srv.logs(), /<[0-3]>/, 'no errors logged');
    } finally {
      clients.forEach((c) => c.close());
      await srv.stop();
      if (second) await second.stop();
    }
  });
});
