// The Socket.IO admin UI (npm @socket.io/admin-ui's ui/dist, served by
// daheim-live at admin.uiPath on an internal listener) in headless Chromium,
// with no internet: log in with the bcrypt-protected account, see the sockets
// of the running server and their rooms, disconnect one from the UI; that
// client sees "io server disconnect". The screenshot is kept in
// $DAHEIM_BROWSER_ARTIFACTS (admin-ui.png).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePort } from '../e2e/lib/redis.mjs';
import { startServer } from '../e2e/lib/server.mjs';
import { Pool, cmd, disconnected, WS } from '../e2e/lib/sio.mjs';
import { artifacts, launchChromium } from './chromium.mjs';

const require = createRequire(import.meta.url);
const bcrypt = require('bcryptjs');
const WAIT_MS = 15000;
const PASSWORD = 'open sesame';

const work = mkdtempSync(path.join(tmpdir(), 'daheim-admin-ui-'));
const hashFile = path.join(work, 'admin.bcrypt');
writeFileSync(hashFile, `${bcrypt.hashSync(PASSWORD, 8)}\n`);

describe('admin UI in Chromium', () => {
  const pool = new Pool();
  let browser;
  let srv;
  let publicUrl;
  let uiUrl;
  let page;
  const requests = [];
  const errors = [];

  before(async () => {
    const [pub, internal] = [await freePort(), await freePort()];
    publicUrl = `http://127.0.0.1:${pub}`;
    const uiOrigin = `http://127.0.0.1:${internal}`;
    uiUrl = `${uiOrigin}/admin/`;
    srv = await startServer({
      testHandler: 'socketio-e2e',
      socketio: { namespaces: ['/', '/custom'] },
      listen: undefined,
      listeners: [
        { listen: `127.0.0.1:${pub}`, serve: ['socketio'] },
        { listen: `127.0.0.1:${internal}`, serve: ['metrics', 'admin'] },
      ],
      // The UI polls with credentials from its own origin.
      engineio: { cors: { origin: [uiOrigin], credentials: true } },
      admin: { auth: { username: 'ops', passwordHashFile: hashFile }, mode: 'development' },
    }, { listen: null });
    browser = await launchChromium();
  });
  after(async () => {
    pool.close();
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('is served on the internal listener only', async () => {
    assert.equal((await fetch(uiUrl)).status, 200);
    assert.equal((await fetch(`${publicUrl}/admin/`)).status, 404);
  });

  it('logs in, lists the sockets with their rooms, disconnects one', async () => {
    const alice = await pool.connect(publicUrl, '/', { transports: WS });
    const bob = await pool.connect(publicUrl, '/', { transports: WS });
    await cmd(alice.socket, 'join', ['lesson-42']);

    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(uiUrl);
    await page.getByLabel('Server URL').fill(publicUrl);
    await page.getByLabel('Username').fill('ops');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByText('Connection', { exact: true }).waitFor({ state: 'hidden', timeout: WAIT_MS });

    await page.goto(`${uiUrl}#/sockets/`);
    const row = page.locator('tr', { hasText: alice.socket.id });
    await row.waitFor({ timeout: WAIT_MS });
    await page.locator('tr', { hasText: bob.socket.id }).waitFor({ timeout: WAIT_MS });

    await page.goto(`${uiUrl}#/rooms/`);
    await page.locator('tr', { hasText: 'lesson-42' }).waitFor({ timeout: WAIT_MS });
    await page.goto(`${uiUrl}#/n/%2F/sockets/${alice.socket.id}`);
    await page.getByText('lesson-42').first().waitFor({ timeout: WAIT_MS });
    await page.screenshot({ path: path.join(artifacts, 'admin-ui.png'), fullPage: true });

    await page.goto(`${uiUrl}#/sockets/`);
    const [aliceId, bobId] = [alice.socket.id, bob.socket.id];
    const gone = disconnected(alice.socket, WAIT_MS);
    await page.locator('.v-data-table tbody tr', { hasText: alice.socket.id }).locator('button').click();
    assert.equal(await gone, 'io server disconnect');
    // The click also opens the socket's page (the row's own handler): it
    // turns to "disconnected" when the server reports the disconnection.
    await page.getByText('disconnected', { exact: true }).first().waitFor({ timeout: WAIT_MS });
    await page.screenshot({ path: path.join(artifacts, 'admin-ui-disconnected.png'), fullPage: true });
    await page.goto(`${uiUrl}#/sockets/`);
    await page.getByText('Socket details').waitFor({ state: 'detached', timeout: WAIT_MS });
    await page.locator('.v-data-table tbody tr', { hasText: bobId }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('.v-data-table tbody tr', { hasText: aliceId }).count(), 0);
    assert.equal(bob.socket.connected, true);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith('http://127.0.0.1:')), [], 'nothing from the internet');
    await context.close();
  });
});
