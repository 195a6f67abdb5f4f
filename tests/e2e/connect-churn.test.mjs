// End-to-end: auth.connectsPerSecondPerUser (issue 17). One user churning
// CONNECTs with a valid token (new connections, and namespace CONNECTs over
// one connection) is refused with connect_error "Too many connects" once its
// burst is spent; another user connects meanwhile; the churner gets in again
// once the bucket has refilled. Users whose bucket is full again are
// forgotten (daheim_auth_connect_rate_users back to 0).

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import jwt from 'jsonwebtoken';

import { Manager, WS, connected, io } from './lib/sio.mjs';
import { scrape } from './lib/metrics.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { hmacSecret, withTimeout } from './lib/util.mjs';

const RATE = 1;
// Refused attempts after the burst: each draws a token too, so the bucket ends
// about EXTRA tokens in debt and the checks after the loop (a metrics scrape,
// the neighbour's connection, the namespace CONNECT) have seconds of margin
// even on a loaded machine.
const EXTRA = 8;
const BURST = 5;

describe('limits: auth.connectsPerSecondPerUser', () => {
  let srv;
  const secret = hmacSecret(32);
  const token = (sub) => jwt.sign({ sub }, secret, { algorithm: 'HS256', expiresIn: '1h' });
  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'daheim-churn-'));
    writeFileSync(path.join(dir, 'hs.key'), secret);
    srv = await startServer({
      testHandler: undefined,
      socketio: { namespaces: ['/', '/other'] },
      pluginDir: path.join(pluginsDir, 'test'),
      plugins: [{ path: 'alpha.so' }],
      auth: {
        hmacSecretFiles: [{ path: path.join(dir, 'hs.key'), alg: 'HS256', kid: '' }],
        connectsPerSecondPerUser: RATE,
        connectBurstPerUser: BURST,
      },
    });
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  // One CONNECT on a new connection: resolves true when connected, false
  // when refused with "Too many connects".
  const attempt = async (sub) => {
    const s = io(srv.url, { forceNew: true, reconnection: false, transports: WS, auth: { token: token(sub) } });
    try {
      await connected(s);
      return true;
    } catch (err) {
      assert.equal(err.message, 'Too many connects');
      assert.deepEqual(err.data, { code: 'too_many_connects' });
      return false;
    } finally {
      s.close();
    }
  };
  const refusals = async () =>
    (await scrape(srv.url)).value('daheim_limit_refusals_total', { limit: 'auth.connectsPerSecondPerUser' });

  it('a churning user is refused past its burst; another user is not', async () => {
    const started = Date.now();
    const results = [];
    for (let i = 0; i < BURST + EXTRA; i++) results.push(await attempt('churner'));
    const elapsed = (Date.now() - started) / 1000;
    // The burst, plus what the rate paid back while the attempts ran.
    const allowed = BURST + Math.floor(elapsed * RATE);
    assert.deepEqual(results.slice(0, BURST), Array(BURST).fill(true));
    assert.ok(results.filter((r) => !r).length >= BURST + EXTRA - allowed, JSON.stringify(results));
    assert.equal(results.at(-1), false, `after ${elapsed.toFixed(2)} s: ${JSON.stringify(results)}`);
    assert.ok((await refusals()) >= 1);
    // The neighbour, same address, another user: served.
    assert.equal(await attempt('neighbour'), true);

    // Namespace CONNECTs over one connection count too.
    const manager = new Manager(srv.url, { forceNew: true, reconnection: false, transports: WS });
    const other = manager.socket('/other', { auth: { token: token('churner') } });
    await assert.rejects(withTimeout(connected(other), 5000, 'connect /other'), /Too many connects/);
    const mine = manager.socket('/', { auth: { token: token('neighbour') } });
    await connected(mine);
    mine.disconnect();
    other.close();

    // Once the bucket has refilled (refused attempts drew tokens too), the
    // churner connects again.
    const before = await refusals();
    await new Promise((r) => setTimeout(r, ((BURST + EXTRA + 1) / RATE) * 1000));
    assert.equal(await attempt('churner'), true);
    assert.equal(await refusals(), before);
  });

  // A full bucket says no more than none: the server forgets the user within
  // two refill times (BURST / RATE = 5 s) of its last CONNECT, so a table of
  // users seen once does not grow for ever (README "Soak").
  it('forgets users whose bucket is full again (daheim_auth_connect_rate_users)', async () => {
    const users = async () => (await scrape(srv.url)).value('daheim_auth_connect_rate_users');
    for (const sub of ['once-a', 'once-b', 'once-c']) assert.equal(await attempt(sub), true);
    assert.ok((await users()) >= 3, `users: ${await users()}`);
    const deadline = Date.now() + 2 * (BURST / RATE) * 1000 + 10000;
    while ((await users()) !== 0) {
      assert.ok(Date.now() < deadline, `still ${await users()} users tracked`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // A user seen before gets a full burst again.
    for (let i = 0; i < BURST; i++) assert.equal(await attempt('once-a'), true);
  });
});
