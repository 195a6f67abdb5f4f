// End-to-end: the production binary carries no test fixture (issue 17). The
// e2e and conformance fixtures (core/testing: the Engine.IO echo, the official
// suite's handlers, the e2e commands, one of which lets any client broadcast
// to everyone) live in daheim-live-test only, which is never installed.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { binaryPath, startServer, testBinaryPath } from './lib/server.mjs';

const FIXTURES = ['engineio-echo', 'socketio-conformance', 'socketio-e2e'];
const REFUSAL =
  "test fixtures are not part of this binary (the build tree's daheim-live-test serves them, for the test suites only)";

function configFile(config) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'daheim-prod-')), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

// Demangled names of the symbols defined in `bin` (the build tree's binaries
// are not stripped).
const symbols = (bin) => execFileSync('nm', ['-C', '--defined-only', bin], { encoding: 'utf8', maxBuffer: 1 << 28 });

describe('production binary: no test fixture', () => {
  it('refuses every testHandler with exit 78, naming the file and the key', () => {
    for (const name of FIXTURES) {
      const file = configFile({ listen: '127.0.0.1:0', testHandler: name });
      for (const args of [['--check-config', file], ['--config', file]]) {
        const r = spawnSync(binaryPath, args, { encoding: 'utf8', timeout: 15000 });
        assert.equal(r.status, 78, `${name} ${args[0]}: ${r.stderr}`);
        assert.equal(r.stderr.trim(), `daheim-live: config error: ${file}: key testHandler: ${REFUSAL}`);
      }
      const ok = spawnSync(testBinaryPath, ['--check-config', file], { encoding: 'utf8', timeout: 15000 });
      assert.equal(ok.status, 0, ok.stderr);
    }
  });

  it("holds none of the fixtures' code; the test binary does", () => {
    assert.doesNotMatch(symbols(binaryPath), /daheim::testing::/);
    const test = symbols(testBinaryPath);
    for (const fn of ['install_e2e_handlers', 'install_conformance_handlers', 'EchoHandler'])
      assert.match(test, new RegExp(`daheim::testing::${fn}`));
    // The e2e commands' names are string literals of the fixture only.
    const prod = readFileSync(binaryPath);
    for (const command of ['broadcast-with-ack', 'disconnect-reason', 'message-with-ack'])
      assert.equal(prod.includes(command), false, command);
    assert.equal(readFileSync(testBinaryPath).includes('broadcast-with-ack'), true);
  });

  it('still serves Socket.IO without a fixture', async () => {
    const srv = await startServer({ testHandler: undefined });
    try {
      const r = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /^0\{"sid":"/);
      // The process runs the production binary (startServer spawns it through setpriv).
      assert.equal(readlinkSync(`/proc/${srv.pid}/exe`), realpathSync(binaryPath));
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });
});
