// End-to-end: the real socket.io-client (npm, pinned in package.json) against
// the real daheim-live binary running the e2e fixture (testHandler
// "socketio-e2e", core/testing/e2e_handlers.cpp documents its commands).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  POLLING,
  Pool,
  UPGRADE,
  WS,
  cmd,
  cmdAll,
  connected,
  disconnected,
  join,
  normalize,
  startSioServer,
} from './lib/sio.mjs';
import { once } from './lib/util.mjs';

const bin = (...bytes) => Buffer.from(bytes);

describe('socket.io-client: namespaces, auth, acks, binary', () => {
  let srv;
  const pool = new Pool();
  before(async () => {
    srv = await startSioServer();
  });
  after(async () => {
    pool.close();
    // A clean exit: no crash while tearing down what the tests left behind.
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  });

  for (const [name, transports] of [
    ['websocket only', WS],
    ['polling only', POLLING],
    ['polling then websocket', UPGRADE],
  ]) {
    it(`${name}: "/" and "/custom" over one connection, auth, echo and binary`, async () => {
      const m = pool.manager(srv.url, { transports });
      const main = await join(m, '/', { auth: { token: 'main', n: 1 } });
      const custom = await join(m, '/custom', { auth: { token: 'abc', nested: { é: ['😀', null] } } });

      // One Engine.IO connection, two sockets with their own ids.
      assert.deepEqual(main.auth, { token: 'main', n: 1 });
      assert.deepEqual(custom.auth, { token: 'abc', nested: { é: ['😀', null] } });
      assert.equal(main.hello.id, main.socket.id);
      assert.equal(custom.hello.id, custom.socket.id);
      assert.equal(main.hello.nsp, '/');
      assert.equal(custom.hello.nsp, '/custom');
      assert.equal(main.hello.engine, m.engine.id);
      assert.equal(custom.hello.engine, m.engine.id);
      assert.notEqual(main.socket.id, custom.socket.id);
      assert.notEqual(main.socket.id, m.engine.id);
      assert.equal(main.hello.transport, transports[0]);

      for (const { socket } of [main, custom]) {
        const args = [1, 'two', { three: [3, true, null] }, [], 'é€😀'];
        assert.deepEqual(await cmdAll(socket, 'echo', ...args), args);
        const binary = [bin(1, 2, 3), { nested: [bin(), { deep: bin(255, 0, 128) }] }, 'text'];
        assert.deepEqual(normalize(await cmdAll(socket, 'echo', ...binary)), binary);
      }

      if (transports === UPGRADE) {
        if (m.engine.transport.name !== 'websocket') await once(m.engine, 'upgrade', 10000);
        assert.equal((await cmd(main.socket, 'whoami')).transport, 'websocket');
        assert.deepEqual(await cmdAll(custom.socket, 'echo', 'after upgrade'), ['after upgrade']);
      } else {
        assert.equal((await cmd(custom.socket, 'whoami')).transport, transports[0]);
      }
    });
  }

  it('no auth payload: the server sees {}', async () => {
    const { auth } = await pool.connect(srv.url, '/', { transports: WS });
    assert.deepEqual(auth, {});
  });

  it('unknown namespace: connect_error "Invalid namespace", the connection stays usable', async () => {
    const m = pool.manager(srv.url, { transports: WS });
    const main = await join(m, '/');
    const bad = m.socket('/random');
    const refused = connected(bad).then(
      () => assert.fail('connected to /random'),
      (err) => err,
    );
    bad.connect();
    const err = await refused;
    assert.equal(err.message, 'Invalid namespace');
    assert.equal(bad.connected, false);
    assert.deepEqual(await cmdAll(main.socket, 'echo', 'still here'), ['still here']);
    // A second namespace over the same connection still works afterwards.
    const custom = await join(m, '/custom');
    assert.equal(custom.hello.engine, main.hello.engine);
  });

  it('client → server acks, and ack timeouts on the client', async () => {
    const { socket } = await pool.connect(srv.url, '/', { transports: WS });
    assert.deepEqual(await cmdAll(socket, 'echo'), []);
    assert.deepEqual(await cmdAll(socket, 'echo', 0, false, ''), [0, false, '']);
    // The fixture never answers unknown events.
    const t0 = Date.now();
    await assert.rejects(socket.timeout(200).emitWithAck('sink', 1), /operation has timed out/);
    assert.ok(Date.now() - t0 >= 190, 'the client waited its timeout');
    // The socket is unharmed.
    assert.deepEqual(await cmdAll(socket, 'echo', 'ok'), ['ok']);
  });

  // engine.io-client puts the query into every request's target, %-escaped:
  // "+", "/" and "=" of a token as %2B, %2F and %3D. Every polling POST
  // carries it, and each is served (on our own HTTP/1.1 handling too, where
  // such a POST was once handed to lws with its body and failed).
  it('polling with a query holding escapes ("a+b/c="): connects, acks, the handshake sees it decoded', async () => {
    const query = { token: 'a+b/c=', space: 'x y', amp: 'p&q;r', empty: '' };
    const { socket } = await pool.connect(srv.url, '/', { transports: POLLING, query });
    for (let i = 0; i < 5; i++) assert.deepEqual(await cmdAll(socket, 'echo', i, 'ok'), [i, 'ok']);
    const hs = await cmd(socket, 'handshake');
    for (const [k, v] of Object.entries(query)) assert.equal(hs.query[k], v, `query ${k}`);
    assert.equal(socket.io.engine.transport.name, 'polling');
  });

  it('server → client acks: answer, binary answer, timeout, late answer ignored', async () => {
    const { socket, rec } = await pool.connect(srv.url, '/', { transports: WS });
    socket.on('question', (a, b, cb) => cb('answer', a + b));
    assert.equal(await cmd(socket, 'emit-with-ack', { event: 'question', timeoutMs: 2000 }, 2, 3), 1);
    assert.deepEqual(await rec.next('ack-result'), [false, 'answer', 5]);

    // Binary to the client and back.
    let received;
    socket.on('bin-question', (...args) => {
      const cb = args.pop();
      received = normalize(args);
      cb(bin(9, 8, 7), { deep: [bin(1), 'x'] });
    });
    const payload = [bin(104, 105), { x: [bin(0, 1), { y: bin(2) }] }];
    await cmd(socket, 'emit-with-ack', { event: 'bin-question', timeoutMs: 2000 }, ...payload);
    const result = normalize(await rec.next('ack-result'));
    assert.deepEqual(received, payload);
    assert.deepEqual(result, [false, bin(9, 8, 7), { deep: [bin(1), 'x'] }]);

    // No answer: the server's callback runs with timedOut after timeoutMs.
    let late;
    socket.on('ignored', (cb) => {
      late = cb;
    });
    const t0 = Date.now();
    await cmd(socket, 'emit-with-ack', { event: 'ignored', timeoutMs: 300 });
    assert.deepEqual(await rec.next('ack-result'), [true]);
    const waited = Date.now() - t0;
    assert.ok(waited >= 280 && waited < 3000, `timed out after ${waited} ms`);
    // Answering after the timeout changes nothing: the next result is the
    // next question's.
    late('too late');
    await cmd(socket, 'emit-with-ack', { event: 'question', timeoutMs: 2000 }, 1, 1);
    assert.deepEqual(await rec.next('ack-result'), [false, 'answer', 2]);
    assert.equal(rec.count('ack-result'), 4);
  });

  it('binary events both directions (Buffer, Uint8Array, ArrayBuffer, nested, large)', async () => {
    for (const transports of [WS, POLLING]) {
      const { socket, rec } = await pool.connect(srv.url, '/', { transports });
      const big = Buffer.alloc(200 * 1024, 0xab);
      const args = [
        bin(0, 1, 2, 255),
        new Uint8Array([5, 6]),
        new Uint8Array([7, 8, 9]).buffer,
        { a: [{ b: { c: bin(42) } }, 'text', bin()], n: 1 },
        big,
      ];
      socket.emit('echo-event', ...args);
      const got = normalize(await rec.next('echo-event'));
      assert.deepEqual(got, normalize(args), `echo-event over ${transports}`);
      const acked = normalize(await cmdAll(socket, 'echo', ...args));
      assert.deepEqual(acked, normalize(args), `echo ack over ${transports}`);
      socket.disconnect();
    }
  });

  it('binary events straddling the polling → websocket upgrade arrive complete and in order', async () => {
    const m = pool.manager(srv.url, { transports: UPGRADE });
    const { socket, rec } = await join(m, '/');
    let sent = 0;
    const send = () => {
      for (let k = 0; k < 3; k++, sent++) socket.emit('echo-event', sent, bin(sent & 255, 7), { n: [bin(sent >> 8)] });
    };
    send();
    const upgraded = m.engine.transport.name === 'websocket' ? null : once(m.engine, 'upgrade', 10000);
    const timer = setInterval(send, 2);
    try {
      await upgraded;
    } finally {
      clearInterval(timer);
    }
    send();
    for (let i = 0; i < sent; i++) {
      const got = normalize(await rec.next('echo-event'));
      assert.deepEqual(got, [i, bin(i & 255, 7), { n: [bin(i >> 8)] }], `event ${i} of ${sent}`);
    }
  });

  it('a broadcast-with-ack collects every answer, and times out when one is missing', async () => {
    const a = await pool.connect(srv.url, '/', { transports: WS });
    const b = await pool.connect(srv.url, '/', { transports: POLLING });
    const c = await pool.connect(srv.url, '/', { transports: WS });
    for (const [i, x] of [a, b, c].entries()) {
      await cmd(x.socket, 'join', ['acks']);
      x.socket.on('poll', (q, cb) => {
        if (i !== 2 || q !== 'skip-c') cb(`${q}:${i}`);
      });
    }
    assert.equal(
      await cmd(a.socket, 'broadcast-with-ack', { event: 'poll', rooms: ['acks'], timeoutMs: 3000 }, 'q1'),
      true,
    );
    const [timedOut, ...answers] = await a.rec.next('broadcast-ack-result');
    assert.equal(timedOut, false);
    assert.deepEqual(answers.map((x) => x[0]).sort(), ['q1:0', 'q1:1', 'q1:2']);

    const t0 = Date.now();
    await cmd(
      b.socket,
      'broadcast-with-ack',
      { event: 'poll', rooms: ['acks'], exceptSelf: true, timeoutMs: 300 },
      'skip-c',
    );
    const [timedOut2, ...answers2] = await b.rec.next('broadcast-ack-result');
    assert.equal(timedOut2, true);
    assert.ok(Date.now() - t0 >= 280);
    assert.deepEqual(answers2, [['skip-c:0']]);

    // Nobody in the room: the result comes at once.
    await cmd(c.socket, 'broadcast-with-ack', { event: 'poll', rooms: ['empty'], timeoutMs: 5000 }, 'x');
    assert.deepEqual(await c.rec.next('broadcast-ack-result', 1000), [false]);
  });
});

describe('socket.io-client: rooms, except, volatile', () => {
  let srv;
  const pool = new Pool();
  before(async () => {
    srv = await startSioServer();
  });
  after(async () => {
    pool.close();
    // A clean exit: no crash while tearing down what the tests left behind.
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  });

  // Waits until each client got `event` once more: everything broadcast to
  // them before has arrived (a connection delivers in order).
  async function fence(clients, sender) {
    const waits = clients.map((c) => c.rec.next('fence'));
    await cmd(sender.socket, 'broadcast', { event: 'fence', args: [] });
    await Promise.all(waits);
  }

  it('join, leave, rooms, broadcast to rooms (each socket once), except, socket.broadcast', async () => {
    const [a, b, c, d] = await Promise.all(
      [WS, POLLING, WS, WS].map((transports) => pool.connect(srv.url, '/', { transports })),
    );
    const all = [a, b, c, d];
    assert.deepEqual((await cmd(a.socket, 'join', ['r1', 'r2'])).sort(), [a.socket.id, 'r1', 'r2'].sort());
    await cmd(b.socket, 'join', 'r1');
    await cmd(c.socket, 'join', ['r2', 'x']);
    assert.deepEqual(await cmd(d.socket, 'rooms'), [d.socket.id]);

    // a is in both rooms and receives once.
    assert.deepEqual(await cmd(d.socket, 'broadcast', { event: 'e1', rooms: ['r1', 'r2'], args: [1] }), [true]);
    // except
    await cmd(d.socket, 'broadcast', { event: 'e2', rooms: ['r1', 'r2'], except: ['x'] });
    // socket.broadcast (sender excluded), to everybody except room r2
    await cmd(a.socket, 'broadcast', { event: 'e3', exceptSelf: true, except: 'r2' });
    // to one socket's own room
    await cmd(a.socket, 'broadcast', { event: 'e4', rooms: [c.socket.id], args: ['only c'] });
    // leave
    assert.deepEqual((await cmd(a.socket, 'leave', ['r1'])).sort(), [a.socket.id, 'r2'].sort());
    await cmd(d.socket, 'broadcast', { event: 'e5', rooms: 'r1' });
    await fence(all, d);

    const counts = all.map((x) => ['e1', 'e2', 'e3', 'e4', 'e5'].map((e) => x.rec.count(e)));
    assert.deepEqual(counts, [
      // e1 e2 e3 e4 e5
      [1, 1, 0, 0, 0], // a: r1 r2 (then left r1)
      [1, 1, 1, 0, 1], // b: r1
      [1, 0, 0, 1, 0], // c: r2 x
      [0, 0, 1, 0, 0], // d: none
    ]);
    assert.deepEqual(await a.rec.next('e1'), [1]);
    assert.deepEqual(await c.rec.next('e4'), ['only c']);
    // The default args: the command's own arguments.
    assert.deepEqual(await b.rec.next('e2'), []);
  });

  it('a disconnected socket has left its rooms', async () => {
    const m = pool.manager(srv.url, { transports: WS });
    const a = await join(m, '/');
    const probe = await join(m, '/custom');
    const b = await pool.connect(srv.url, '/', { transports: WS });
    await cmd(a.socket, 'join', ['gone']);
    await cmd(b.socket, 'join', ['gone']);
    b.socket.on('poll', (cb) => cb('b'));
    const bye = disconnected(a.socket);
    a.socket.disconnect();
    assert.equal(await bye, 'io client disconnect');
    // Asked over a's connection: the server has handled its DISCONNECT.
    assert.equal(await cmd(probe.socket, 'disconnect-reason', a.hello.id), 'client namespace disconnect');
    await cmd(b.socket, 'broadcast-with-ack', { event: 'poll', rooms: ['gone'], timeoutMs: 3000 });
    assert.deepEqual(await b.rec.next('broadcast-ack-result'), [false, ['b']]);
  });

  it('volatile: sent when nothing waits for the connection, dropped while frames do', async () => {
    const a = await pool.connect(srv.url, '/', { transports: WS });
    const b = await pool.connect(srv.url, '/', { transports: WS });
    // Idle: sent (to itself, and through the namespace from b).
    assert.deepEqual(await cmd(a.socket, 'broadcast', [{ self: true, volatile: true, event: 'v1' }]), [true]);
    await cmd(b.socket, 'broadcast', { rooms: [a.socket.id], volatile: true, event: 'v2', args: ['x'] });
    assert.deepEqual(await a.rec.next('v2'), ['x']);
    // Right after another packet in the same loop turn: that one is still
    // waiting to be written, so the volatile one is dropped (as the reference
    // drops it while its transport writes).
    assert.deepEqual(
      await cmd(a.socket, 'broadcast', [
        { self: true, event: 'n1' },
        { self: true, volatile: true, event: 'v3' },
      ]),
      [true, false],
    );
    await a.rec.next('n1');

    // Busy: a stops reading its TCP socket; 12 × 900 KB to itself fill the
    // kernel's buffers and the rest waits in the server's queue.
    const tcp = a.socket.io.engine.transport.ws._socket;
    tcp.pause();
    const big = 'x'.repeat(900_000);
    const floods = [];
    for (let i = 0; i < 12; ++i) floods.push(cmd(a.socket, 'broadcast', [{ self: true, event: 'big', args: [big] }]));
    // b hears from a once the server has handled every command before it.
    const done = b.rec.next('a-done', 10000);
    a.socket.emit('broadcast', { rooms: [b.socket.id], event: 'a-done', args: [] });
    await done;
    const busy = cmd(a.socket, 'broadcast', [{ self: true, volatile: true, event: 'v4' }]);
    const done2 = b.rec.next('a-done', 10000);
    a.socket.emit('broadcast', { rooms: [b.socket.id], event: 'a-done', args: [] });
    await done2;
    tcp.resume();
    await Promise.all(floods);
    assert.deepEqual(await busy, [false]);
    // Idle again: sent.
    assert.deepEqual(await cmd(a.socket, 'broadcast', [{ self: true, volatile: true, event: 'v5' }]), [true]);
    await a.rec.next('v5');
    await fence([a, b], b);
    assert.equal(a.rec.count('big'), 12);
    assert.equal(a.rec.count('v1'), 1);
    assert.equal(a.rec.count('v3') + a.rec.count('v4'), 0);
  });
});

describe('socket.io-client: disconnects and reconnection', () => {
  let srv;
  const pool = new Pool();
  before(async () => {
    srv = await startSioServer();
  });
  after(async () => {
    pool.close();
    // A clean exit: no crash while tearing down what the tests left behind.
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  });

  async function reasonOnServer(socket, id) {
    return cmd(socket, 'disconnect-reason', id);
  }

  for (const transports of [WS, POLLING]) {
    it(`${transports}: server-side disconnect → "io server disconnect", the client reconnects itself`, async () => {
      const m = pool.manager(srv.url, { transports, reconnection: true });
      const main = await join(m, '/');
      const custom = await join(m, '/custom');
      const oldId = main.socket.id;
      const bye = disconnected(main.socket);
      main.socket.emit('disconnect-me', { close: false });
      assert.equal(await bye, 'io server disconnect');
      // No automatic reconnection after a server-side disconnect.
      assert.equal(main.socket.active, false);
      assert.equal(await reasonOnServer(custom.socket, oldId), 'server namespace disconnect');
      // The other namespace and the connection are unaffected.
      assert.equal(custom.socket.connected, true);
      assert.deepEqual(await cmdAll(custom.socket, 'echo', 1), [1]);

      // The client's own reconnection: same connection, new socket id.
      const again = connected(main.socket);
      main.socket.connect();
      await again;
      const [hello] = await main.rec.next('hello');
      assert.notEqual(main.socket.id, oldId);
      assert.equal(hello.id, main.socket.id);
      assert.equal(hello.engine, custom.hello.engine);
      assert.deepEqual(await cmdAll(main.socket, 'echo', 'back'), ['back']);
    });

    it(`${transports}: server closes the transport → "transport close", automatic reconnection`, async () => {
      const { socket, rec, hello } = await pool.connect(srv.url, '/', {
        transports,
        reconnection: true,
        reconnectionDelay: 50,
        randomizationFactor: 0,
      });
      const bye = disconnected(socket);
      const back = connected(socket);
      socket.emit('close-transport');
      assert.equal(await bye, 'transport close');
      assert.equal(socket.active, true, 'the client will reconnect');
      await back;
      const [hello2] = await rec.next('hello', 10000);
      assert.equal(hello2.id, socket.id);
      assert.notEqual(hello2.id, hello.id);
      assert.notEqual(hello2.engine, hello.engine);
      assert.equal(await reasonOnServer(socket, hello.id), 'forced close');
    });
  }

  it('disconnect(true): every namespace of the connection gets "io server disconnect"', async () => {
    const m = pool.manager(srv.url, { transports: WS, reconnection: true });
    const main = await join(m, '/');
    const custom = await join(m, '/custom');
    const closed = once(m.engine, 'close');
    const byes = [disconnected(main.socket), disconnected(custom.socket)];
    main.socket.emit('disconnect-me', { close: true });
    assert.deepEqual(await Promise.all(byes), ['io server disconnect', 'io server disconnect']);
    await closed;
    assert.equal(main.socket.active, false);
    assert.equal(custom.socket.active, false);

    const other = await pool.connect(srv.url, '/', { transports: WS });
    assert.equal(await reasonOnServer(other.socket, main.hello.id), 'server namespace disconnect');
    assert.equal(await reasonOnServer(other.socket, custom.hello.id), 'server namespace disconnect');
  });

  it('client-side disconnect: the server sees "client namespace disconnect"', async () => {
    const m = pool.manager(srv.url, { transports: POLLING });
    const main = await join(m, '/');
    const custom = await join(m, '/custom');
    const bye = disconnected(main.socket);
    main.socket.disconnect();
    assert.equal(await bye, 'io client disconnect');
    // Same connection, so the server handled the DISCONNECT before this.
    assert.equal(await reasonOnServer(custom.socket, main.hello.id), 'client namespace disconnect');
    assert.equal(await reasonOnServer(custom.socket, custom.hello.id), null);
  });

  it('the client closing its connection: the server sees "transport close"', async () => {
    const probe = await pool.connect(srv.url, '/', { transports: WS });
    for (const transports of [WS, POLLING]) {
      const { socket, hello } = await pool.connect(srv.url, '/custom', { transports });
      socket.io.engine.close();
      let reason;
      // Another connection: ask until the server noticed (bounded).
      for (let i = 0; i < 200 && !reason; i++) reason = await reasonOnServer(probe.socket, hello.id);
      assert.equal(reason, 'transport close', `${transports}`);
    }
  });
});

describe('socket.io-client: the server stops', () => {
  it('SIGTERM with acks pending: clients see "transport close" (or a refused poll), the server exits 0', async () => {
    const srv = await startSioServer();
    const pool = new Pool();
    try {
      const clients = await Promise.all(
        [WS, POLLING, UPGRADE].map((transports) => pool.connect(srv.url, '/', { transports })),
      );
      for (const c of clients) {
        c.socket.on('never', () => {}); // never answers
        await cmd(c.socket, 'join', ['pending']);
        await cmd(c.socket, 'emit-with-ack', { event: 'never', timeoutMs: 30000 });
      }
      await cmd(clients[0].socket, 'broadcast-with-ack', { event: 'never', rooms: ['pending'], timeoutMs: 30000 });
      const byes = clients.map((c) => disconnected(c.socket, 10000));
      const exited = srv.stop('SIGTERM');
      const [ws, polling, upgraded] = await Promise.all(byes);
      assert.equal(ws, 'transport close');
      assert.equal(upgraded, 'transport close');
      // Its held GET is answered with the close packet; a GET still on its
      // way finds the server accepting no connections (refused) while it drains.
      assert.ok(['transport close', 'transport error'].includes(polling), polling);
      assert.deepEqual(await exited, { code: 0, signal: null });
    } finally {
      pool.close();
      await srv.stop();
    }
  });
});

// engineio.handshakeHeaders: what a session keeps of its handshake's headers
// (socket.io's handshake.headers, a plugin's socket_header).
describe('socket.io-client: the handshake headers a session keeps', () => {
  const pool = new Pool();
  const servers = [];
  after(async () => {
    pool.close();
    for (const srv of servers) assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  });

  // The handshake's header names, and the user-agent the client sent.
  async function kept(handshakeHeaders, transports) {
    const srv = await startSioServer({}, handshakeHeaders ? { engineio: { handshakeHeaders } } : {});
    servers.push(srv);
    const m = pool.manager(srv.url, {
      transports,
      extraHeaders: { 'user-agent': 'daheim-e2e/1', cookie: 'a=b' },
    });
    const { socket } = await join(m, '/');
    const handshake = await cmd(socket, 'handshake');
    socket.disconnect();
    return { names: Object.keys(handshake.headers).sort(), ua: handshake.headers['user-agent'] };
  }

  it('by default all but the WebSocket handshake\'s own', async () => {
    const ws = await kept(undefined, WS);
    assert.equal(ws.ua, 'daheim-e2e/1');
    for (const name of ['host', 'cookie', 'user-agent']) assert.ok(ws.names.includes(name), ws.names.join());
    for (const name of ['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version',
      'sec-websocket-extensions']) assert.ok(!ws.names.includes(name), ws.names.join());
  });

  it('"all" keeps them too, as socket.io', async () => {
    const ws = await kept('all', WS);
    for (const name of ['host', 'cookie', 'user-agent', 'upgrade', 'sec-websocket-key', 'sec-websocket-version'])
      assert.ok(ws.names.includes(name), ws.names.join());
  });

  it('a list keeps only the headers it names', async () => {
    for (const transports of [WS, POLLING]) {
      const got = await kept(['user-agent', 'authorization'], transports);
      assert.deepEqual(got, { names: ['user-agent'], ua: 'daheim-e2e/1' });
    }
  });
});
