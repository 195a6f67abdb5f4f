// A Node.js socket.io 4.8 node with @socket.io/redis-adapter 8.x: the
// reference's cluster member, in the same cluster as daheim-live nodes. Its
// sockets answer a subset of the e2e fixture's commands
// (core/app/e2e_handlers.cpp): hello on connection, join, leave, broadcast
// (specs {event, args?, rooms?, except?, volatile?}; the command's own args
// when args is absent), broadcast-with-ack, sockets-join / sockets-leave /
// disconnect-sockets ({rooms?, except?}, rooms), fetch-sockets, all-rooms,
// server-side-emit, server-count, rooms.
//
// streams: @socket.io/redis-streams-adapter 0.3 instead (one Redis client),
// with `recovery` as socket.io's connectionStateRecovery option.

import http from 'node:http';

import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';

function operator(io, spec = {}) {
  let op = io.of('/');
  if (spec.rooms?.length) op = op.to(spec.rooms);
  if (spec.except?.length) op = op.except(spec.except);
  if (spec.volatile) op = op.volatile;
  return op;
}

function splitAck(args) {
  return typeof args.at(-1) === 'function' ? [args.slice(0, -1), args.at(-1)] : [args, null];
}

// sharded: createShardedAdapter (SPUBLISH/SSUBSCRIBE, dynamic mode).
function makeAdapter(pub, sub, { key, sharded, streams }) {
  if (streams) return createStreamsAdapter(pub, key ? { channelPrefix: key } : {});
  if (sharded) return createShardedAdapter(pub, sub, key ? { channelPrefix: key } : {});
  return createAdapter(pub, sub, key ? { key } : {});
}

export async function startNodePeer(redisUrl, { key, sharded = false, streams = false, recovery } = {}) {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  pub.on('error', () => {});
  sub.on('error', () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    adapter: makeAdapter(pub, sub, { key, sharded, streams }),
    cors: { origin: '*' },
    ...(recovery ? { connectionStateRecovery: recovery } : {}),
  });
  // Server-side events from other nodes: shown to this node's own sockets,
  // acked with {pong: first argument}.
  for (const name of ['ping', 'note']) {
    io.of('/').on(name, (...args) => {
      const [rest, ack] = splitAck(args);
      io.local.emit('server-side', name, ...rest);
      ack?.({ pong: rest[0] ?? null });
    });
  }
  io.on('connection', (socket) => {
    socket.emit('auth', socket.handshake.auth);
    socket.emit('hello', { id: socket.id, nsp: '/' });
    socket.on('join', (rooms, ack) => {
      socket.join(rooms);
      ack?.([...socket.rooms]);
    });
    socket.on('leave', (rooms, ack) => {
      for (const r of rooms) socket.leave(r);
      ack?.([...socket.rooms]);
    });
    socket.on('broadcast', (spec, ...rest) => {
      const [args, ack] = splitAck(rest);
      const specs = Array.isArray(spec) ? spec : [spec];
      for (const s of specs) operator(io, s).emit(s.event, ...(s.args ?? args));
      ack?.(specs.map(() => true));
    });
    socket.on('broadcast-with-ack', (spec, ...rest) => {
      const [args, ack] = splitAck(rest);
      operator(io, spec)
        .timeout(spec.timeoutMs ?? 5000)
        .emit(spec.event, ...args, (err, answers) => {
          // As the daheim fixture: timedOut, then each answer's arguments.
          socket.emit('broadcast-ack-result', !!err, ...(answers ?? []).map((a) => [a]));
        });
      ack?.(true);
    });
    socket.on('sockets-join', (spec, rooms, ack) => {
      operator(io, spec).socketsJoin(rooms);
      ack?.(true);
    });
    socket.on('sockets-leave', (spec, rooms, ack) => {
      operator(io, spec).socketsLeave(rooms);
      ack?.(true);
    });
    socket.on('disconnect-sockets', (spec, close, ack) => {
      operator(io, spec).disconnectSockets(close);
      ack?.(true);
    });
    socket.on('fetch-sockets', async (spec, ack) => {
      try {
        const sockets = await operator(io, spec).fetchSockets();
        ack?.({ sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms] })), complete: true });
      } catch (err) {
        ack?.({ sockets: [], complete: false, error: err.message });
      }
    });
    socket.on('all-rooms', async (ack) => {
      try {
        ack?.({ rooms: [...(await io.of('/').adapter.allRooms())], complete: true });
      } catch (err) {
        ack?.({ rooms: [], complete: false, error: err.message });
      }
    });
    socket.on('server-side-emit', (spec, ...rest) => {
      const [args, ack] = splitAck(rest);
      if (!spec.ack) {
        io.serverSideEmit(spec.event, ...args);
      } else {
        io.serverSideEmitWithAck(spec.event, ...args).then(
          (answers) => socket.emit('server-side-result', true, answers),
          () => socket.emit('server-side-result', false, []),
        );
      }
      ack?.(true);
    });
    socket.on('server-count', async (ack) => ack?.(await io.of('/').adapter.serverCount()));
    socket.on('rooms', (ack) => ack?.([...socket.rooms]));
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address();
  return {
    io,
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      io.close();
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}
