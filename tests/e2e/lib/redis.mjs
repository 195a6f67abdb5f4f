// A real redis-server for a test file: its own free port on 127.0.0.1 and its
// own temp directory, no persistence. Ready when it logs "Ready to accept
// connections"; stop() kills it, start() brings it back on the same port.
// control() gives the test a connected node-redis client of its own to read
// and steer the server with; close() quits those still open.
// redis-server runs tied to the test process (spawnTied): it dies with it
// however that ends, never left behind on its port.

import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createClient } from 'redis';

import { spawnTied } from './spawn.mjs';
import { withTimeout } from './util.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'daheim-redis-'));
  let child = null;
  let log = '';
  const controls = new Set();
  const redis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    logs: () => log,
    async start() {
      child = spawnTied('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--dir', dir,
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      const proc = child;
      const ready = new Promise((resolve, reject) => {
        proc.stdout.setEncoding('utf8');
        proc.stdout.on('data', (d) => {
          log += d;
          if (log.includes('Ready to accept connections')) resolve();
        });
        proc.on('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
      });
      proc.stderr.on('data', (d) => (log += d));
      log = '';
      try {
        await withTimeout(ready, 15000, 'redis-server ready');
      } catch (err) {
        await redis.stop(); // not ready in time: not left running either
        throw err;
      }
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const proc = child;
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await gone;
    },
    // A connected client; its errors are ignored, as tests stop the server
    // on purpose (node-redis reconnects on its own). quit() it, or close()
    // does.
    async control() {
      const client = createClient({ url: redis.url });
      client.on('error', () => {});
      await client.connect();
      controls.add(client);
      client.on('end', () => controls.delete(client));
      return client;
    },
    async close() {
      await Promise.allSettled([...controls].map((c) => (c.isReady ? c.quit() : c.disconnect())));
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}
