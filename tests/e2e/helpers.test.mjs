// The e2e helpers themselves (tests/e2e/lib): a server that cannot start
// fails its test at once, saying why, instead of hanging until the runner's
// timeout; a redis-server a test file started does not outlive it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { binaryPath, startServer } from './lib/server.mjs';
import { once, waitFor, withTimeout } from './lib/util.mjs';

const SOCKETIO = { testHandler: '', socketio: { namespaces: ['/'] } };

// What startServer(...args) rejects with, within 5 s.
function rejection(...args) {
  const started = startServer(...args).then(
    (srv) => srv.stop().then(() => assert.fail('the server started')),
    (err) => err,
  );
  return withTimeout(started, 5000, 'startServer rejecting');
}

describe('startServer (lib/server.mjs)', () => {
  it('rejects promptly on a config error, naming the binary, exit code 78 and the error line', async () => {
    const err = await rejection({ ...SOCKETIO, engineio: { pingInterval: 'soon' } });
    assert.ok(
      err.message.startsWith(`${binaryPath} exited before ready (exit code 78 (EX_CONFIG)); last stderr lines:\n`),
      err.message,
    );
    assert.match(err.message, /\ndaheim-live: config error: \S+config\.json: key engineio\.pingInterval: expected an integer/);
  });

  it('rejects promptly when the binary is missing, naming its path', async () => {
    const missing = path.join(mkdtempSync(path.join(tmpdir(), 'daheim-helpers-')), 'no-such-daheim-live');
    const err = await rejection(SOCKETIO, { binary: missing });
    assert.equal(err.message, `cannot start ${missing}: spawn ${missing} ENOENT`);
  });
});

// Whether something accepts connections on 127.0.0.1:`port`.
function listening(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

// A test process (a node script importing the helper, `body` its code) that
// prints JSON once its children run; resolves with that and the process.
async function runner(body) {
  const script = `
    import { startServer } from ${JSON.stringify(new URL('./lib/server.mjs', import.meta.url).href)};
    import { startRedis } from ${JSON.stringify(new URL('./lib/redis.mjs', import.meta.url).href)};
    import { startHaproxy } from ${JSON.stringify(new URL('./lib/lb-cluster.mjs', import.meta.url).href)};
    ${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit', 30000);
  child.stdout.setEncoding('utf8');
  const [out] = await once(child.stdout, 'data', 30000);
  return { child, exited, said: JSON.parse(out) };
}

// Whether process `pid` is gone (or a zombie: dead, not reaped yet).
function gone(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

// What a runner left behind, killed (`pid`, listening on `port`) if it did.
async function assertGone(what, pid, port) {
  try {
    // A zombie's other threads may still hold its sockets a moment.
    await waitFor(`the ${what} (pid ${pid}) gone, nothing on its port ${port}`,
      async () => gone(pid) && !(await listening(port)), 5000);
  } finally {
    if (!gone(pid)) process.kill(pid, 'SIGKILL'); // left behind
  }
}

describe('startRedis (lib/redis.mjs)', () => {
  it('the redis-server dies with a test process that exits without closing it', async () => {
    // A test process that starts Redis, connects a control client, says the
    // port and exits as a failed test's process.exit(1) would.
    const { exited, said } = await runner(`
      const redis = await startRedis();
      await redis.control();
      console.log(JSON.stringify({ port: redis.port }));
      process.exit(1);`);
    const { port } = said;
    assert.ok(port > 0, JSON.stringify(said));
    assert.deepEqual(await exited, [1, null]);
    try {
      await waitFor(`nothing listening on port ${port} any more`, async () => !(await listening(port)), 5000);
    } finally {
      if (await listening(port)) net.connect(port, '127.0.0.1').end('SHUTDOWN NOSAVE\r\n'); // left behind
    }
  });
});

// The test runner killed outright (SIGKILL: no 'exit' handler runs): what
// its test started dies with it (lib/spawn.mjs).
describe('children of a killed test process (lib/spawn.mjs)', () => {
  it('startServer: the daheim-live server is killed with it', async () => {
    const { child, exited, said } = await runner(`
      const srv = await startServer();
      console.log(JSON.stringify({ pid: srv.pid, port: srv.port }));
      setInterval(() => {}, 1000);`);
    assert.equal(await listening(said.port), true);
    assert.equal(gone(said.pid), false);
    child.kill('SIGKILL');
    assert.deepEqual(await exited, [null, 'SIGKILL']);
    await assertGone('server', said.pid, said.port);
  });

  it('startHaproxy: the haproxy is killed with it', async () => {
    const { child, exited, said } = await runner(`
      const lb = await startHaproxy([{ port: 9 }]);
      console.log(JSON.stringify({ pid: lb.pid, port: lb.port }));
      setInterval(() => {}, 1000);`);
    assert.equal(await listening(said.port), true);
    assert.equal(gone(said.pid), false);
    child.kill('SIGKILL');
    assert.deepEqual(await exited, [null, 'SIGKILL']);
    await assertGone('haproxy', said.pid, said.port);
  });
});
