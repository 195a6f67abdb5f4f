// Helpers for the socket.io-client end-to-end tests: a server started with
// the "socketio-e2e" fixture (core/testing/e2e_handlers.cpp), sockets that record
// every event from before they connect (so no event can be missed), and the
// fixture's commands as promises.

import { Manager, io } from 'socket.io-client';

import { startServer } from './server.mjs';
import { toBuffer, withTimeout } from './util.mjs';

export { Manager, io };

export const WS = ['websocket'];
export const POLLING = ['polling'];
export const UPGRADE = ['polling', 'websocket'];

// Starts daheim-live with the e2e fixture on "/" and "/custom".
export function startSioServer(socketio = {}, overrides = {}) {
  return startServer({
    testHandler: 'socketio-e2e',
    socketio: { namespaces: ['/', '/custom'], ...socketio },
    ...overrides,
  });
}

// Every event a socket.io-client socket receives, in order, with a way to
// wait for the next one of a given name. Events are consumed by next().
export class Recorder {
  constructor(socket) {
    this.socket = socket;
    this.events = []; // { event, args } not yet consumed
    this.counts = new Map(); // event -> how many arrived in total
    this.waiters = [];
    socket.onAny((event, ...args) => {
      this.counts.set(event, (this.counts.get(event) ?? 0) + 1);
      this.events.push({ event, args });
      this.wake();
    });
  }

  wake() {
    this.waiters = this.waiters.filter((w) => {
      const i = this.events.findIndex((e) => e.event === w.event);
      if (i < 0) return true;
      w.resolve(this.events.splice(i, 1)[0].args);
      return false;
    });
  }

  count(event) {
    return this.counts.get(event) ?? 0;
  }

  // Resolves with the arguments of the next `event` (consuming it).
  next(event, ms = 5000) {
    const i = this.events.findIndex((e) => e.event === event);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0].args);
    return withTimeout(
      new Promise((resolve) => this.waiters.push({ event, resolve })),
      ms,
      `socket.io event "${event}" on ${this.socket.nsp}`,
    );
  }
}

// Resolves on the socket's next 'connect', rejects on 'connect_error'.
export function connected(socket, ms = 10000) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const ok = () => {
        socket.off('connect_error', bad);
        resolve();
      };
      const bad = (err) => {
        socket.off('connect', ok);
        reject(err);
      };
      socket.once('connect', ok);
      socket.once('connect_error', bad);
    }),
    ms,
    `connect to ${socket.nsp}`,
  );
}

// A connected socket of its own (no reconnection, WebSocket unless `opts`
// says otherwise) whose Recorder saw every event from the first on.
export async function recordedSocket(url, opts = {}) {
  const socket = io(url, { forceNew: true, reconnection: false, autoConnect: false, transports: WS, ...opts });
  const rec = new Recorder(socket);
  const up = connected(socket);
  socket.connect();
  await up;
  return { socket, rec };
}

// Resolves with the reason of the socket's next 'disconnect'.
export function disconnected(socket, ms = 5000) {
  return withTimeout(
    new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason))),
    ms,
    `disconnect of ${socket.nsp}`,
  );
}

// Sockets and managers to close when a test file ends.
export class Pool {
  constructor() {
    this.managers = new Set();
  }

  // A new connection (its own Manager): resolves with { socket, rec, hello,
  // auth } once connected and greeted. opts are socket.io-client options;
  // reconnection is off unless asked for.
  async connect(url, nsp = '/', opts = {}, ms = 10000) {
    const socket = io(url + (nsp === '/' ? '' : nsp), {
      forceNew: true,
      reconnection: false,
      autoConnect: false,
      ...opts,
    });
    this.managers.add(socket.io);
    const rec = new Recorder(socket);
    const up = connected(socket, ms);
    socket.connect();
    await up;
    const [auth] = await rec.next('auth', ms);
    const [hello] = await rec.next('hello', ms);
    return { socket, rec, hello, auth };
  }

  // A Manager (one Engine.IO connection) for several namespaces; see
  // join() below.
  manager(url, opts = {}) {
    const m = new Manager(url, { reconnection: false, autoConnect: false, ...opts });
    this.managers.add(m);
    return m;
  }

  close() {
    for (const m of this.managers) {
      for (const s of Object.values(m.nsps)) s.disconnect();
      m.engine?.close();
    }
    this.managers.clear();
  }
}

// Connects namespace `nsp` over `manager`'s connection; resolves like
// Pool.connect.
export async function join(manager, nsp, opts = {}, ms = 10000) {
  const socket = manager.socket(nsp, opts);
  const rec = new Recorder(socket);
  const up = connected(socket, ms);
  socket.connect();
  await up;
  const [auth] = await rec.next('auth', ms);
  const [hello] = await rec.next('hello', ms);
  return { socket, rec, hello, auth };
}

// Sends a fixture command and resolves with its ack's first argument.
export function cmd(socket, name, ...args) {
  return socket
    .timeout(5000)
    .emitWithAck(name, ...args)
    .catch((err) => {
      throw new Error(`command ${name} on ${socket.nsp}: ${err.message}`);
    });
}

// Resolves with all of an ack's arguments (an array).
export function cmdAll(socket, name, ...args) {
  return withTimeout(
    new Promise((resolve) => socket.emit(name, ...args, (...answer) => resolve(answer))),
    5000,
    `command ${name} on ${socket.nsp}`,
  );
}

// Deep copy with every binary value turned into a Buffer (socket.io-client
// may hand out ArrayBuffers or Buffers depending on the transport).
export function normalize(v) {
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return toBuffer(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}
