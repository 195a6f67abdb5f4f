// A TCP proxy in front of a server whose connections a test can cut (RST
// both ways, no close handshake), which can refuse new ones for a while
// (clients then keep retrying), and whose target can change (a client that
// reconnects then reaches another node), or sever only the client side, or
// hold back what clients send (hold/release).

import net from 'node:net';

// RST without a close handshake. A socket whose write side was already ended
// (the other side's FIN piped through) is destroyed instead: libuv refuses to
// reset a socket that is shutting down, and node (v20) then leaves its handle
// open for good, which keeps the test process alive after its last test.
function reset(socket) {
  if (socket.writableEnded || socket.destroyed) socket.destroy();
  else socket.resetAndDestroy();
}

export class CuttableProxy {
  constructor(port, host = '127.0.0.1') {
    this.port = port;
    this.host = host;
    this.pairs = new Set();
    this.severed = new Set(); // server sides left open by sever()
    this.blocked = false;
    this.holding = false; // hold(): what clients send waits here
    this.server = net.createServer((down) => {
      if (this.blocked) {
        reset(down);
        return;
      }
      const up = net.connect(this.port, this.host);
      const pair = { down, up };
      this.pairs.add(pair);
      const drop = () => {
        this.pairs.delete(pair);
        down.destroy();
        up.destroy();
      };
      down.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      if (this.holding) down.pause();
      else down.pipe(up);
      up.pipe(down);
    });
  }

  listen() {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${this.server.address().port}`)),
    );
  }

  // New connections go to `port` from now on.
  retarget(port) {
    this.port = port;
  }

  // From now on what clients send (on every connection, new ones too) waits
  // in the proxy; what servers send still goes through.
  hold() {
    this.holding = true;
    for (const { down, up } of this.pairs) {
      down.unpipe(up);
      down.pause();
    }
  }

  // Forwards what hold() kept, and all from then on.
  release() {
    this.holding = false;
    for (const { down, up } of this.pairs) down.pipe(up);
  }

  // Resets every connection now (RST both ways, no close handshake).
  cut() {
    for (const { down, up } of this.pairs) {
      reset(down);
      reset(up);
    }
    this.pairs.clear();
  }

  // Resets the client side of every connection and leaves the server side
  // open and silent (what the server sends is read and dropped): the server
  // notices only by its own timeout, as when a client's network goes away.
  sever() {
    for (const { down, up } of this.pairs) {
      down.unpipe(up);
      up.unpipe(down);
      for (const s of [down, up]) {
        s.removeAllListeners('close');
        s.removeAllListeners('error');
        s.on('error', () => {});
      }
      up.on('data', () => {});
      this.severed.add(up);
      up.once('close', () => this.severed.delete(up));
      reset(down);
    }
    this.pairs.clear();
  }

  close() {
    this.cut();
    for (const up of this.severed) up.destroy();
    this.severed.clear();
    this.server.close();
  }
}
