// A TCP proxy in front of a server whose connections a test can cut (RST
// both ways, no close handshake), which can refuse new ones for a while
// (clients then keep retrying), and whose target can change (a client that
// reconnects then reaches another node).

import net from 'node:net';

export class CuttableProxy {
  constructor(port, host = '127.0.0.1') {
    this.port = port;
    this.host = host;
    this.pairs = new Set();
    this.blocked = false;
    this.server = net.createServer((down) => {
      if (this.blocked) {
        down.resetAndDestroy();
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
      down.pipe(up);
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

  // Resets every connection now (RST both ways, no close handshake).
  cut() {
    for (const { down, up } of this.pairs) {
      down.resetAndDestroy();
      up.resetAndDestroy();
    }
    this.pairs.clear();
  }

  close() {
    this.cut();
    this.server.close();
  }
}
