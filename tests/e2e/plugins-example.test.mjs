// The example plugin (plugins/example, its own meson project) built the way a
// third party builds one: the SDK installed (`meson install --destdir`),
// found through pkg-config only; its fake-host unit test run; then the
// server loads it and socket.io-client calls it.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { Recorder, WS, connected, io } from './lib/sio.mjs';
import { startServer } from './lib/server.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const buildDir = process.env.DAHEIM_BUILD_DIR || path.join(repoRoot, 'build');

function find(dir, name) {
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (entry === name) return p;
    if (statSync(p).isDirectory()) {
      const found = find(p, name);
      if (found) return found;
    }
  }
  return null;
}

function run(cmd, args, env = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: 'pipe' });
}

describe('example plugin, built against the installed SDK', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'daheim-sdk-'));
  const dest = path.join(work, 'dest');
  const exBuild = path.join(work, 'example');
  let env;
  let srv;

  before(() => {
    run('meson', ['install', '-C', buildDir, '--no-rebuild', '--destdir', dest, '--tags', 'devel']);
    const pc = find(dest, 'daheim-live-plugin.pc');
    assert.ok(pc, 'daheim-live-plugin.pc was installed');
    env = { PKG_CONFIG_PATH: path.dirname(pc), PKG_CONFIG_SYSROOT_DIR: dest, PKG_CONFIG_LIBDIR: '' };
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    rmSync(work, { recursive: true, force: true });
  });

  it('pkg-config gives the headers, plugindir and the version script', () => {
    const cflags = run('pkg-config', ['--cflags', 'daheim-live-plugin'], env);
    assert.match(cflags, new RegExp(`-I${dest}/\\S+/include`));
    assert.match(run('pkg-config', ['--variable=plugindir', 'daheim-live-plugin'], env), /daheim-live\/plugins/);
  });

  it('builds with meson and pkg-config only, exports only the entry, passes its fake-host test', () => {
    run('meson', ['setup', exBuild, path.join(repoRoot, 'plugins/example')], env);
    run('ninja', ['-C', exBuild], env);
    const exported = run('nm', ['-D', '--defined-only', path.join(exBuild, 'example.so')]);
    assert.deepEqual(exported.trim().split('\n').map((l) => l.split(' ').pop()), ['dhl_plugin_v1']);
    const out = run('meson', ['test', '-C', exBuild, '--print-errorlogs'], env);
    assert.match(out, /Ok:\s+1/);
  });

  it('the server loads it and socket.io-client calls it', async () => {
    srv = await startServer({
      testHandler: undefined,
      pluginDir: exBuild,
      plugins: [{ path: 'example.so', config: { greeting: 'Hi' } }],
    });
    assert.match(srv.logs(), /plugin example 1\.0\.0 loaded from/);
    const socket = io(srv.url, { forceNew: true, reconnection: false, transports: WS });
    const rec = new Recorder(socket);
    await connected(socket);
    assert.deepEqual(await rec.next('welcome'), ['Hi']);
    assert.deepEqual(await socket.emitWithAck('greet', 'Ada'), { text: 'Hi, Ada!', count: 1 });
    assert.deepEqual(await socket.emitWithAck('greet', 'Bob'), { text: 'Hi, Bob!', count: 2 });
    assert.deepEqual(await socket.emitWithAck('greet'), { error: 'nameRequired' });
    assert.equal(await socket.emitWithAck('slowSquare', 12), 144);
    socket.disconnect();
  });
});
