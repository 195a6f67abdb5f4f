// The API server's emitter in @socket.io/redis-streams-emitter's format
// (reference/cluster.md §1.7; that package is not on the npm registry): XADD
// to the stream with uid "emitter", a BROADCAST whose packet is {type, data,
// nsp} and whose opts are {rooms, flags, except}.

export class StreamsEmitter {
  constructor(client, { streamName = 'socket.io', nsp = '/', maxLen = 10000 } = {}) {
    this.client = client;
    this.streamName = streamName;
    this.nsp = nsp;
    this.maxLen = maxLen;
  }

  // Resolves with the entry id (the offset clients get).
  emit(event, args = [], { rooms = [], except = [] } = {}) {
    const data = JSON.stringify({
      packet: { type: 2, data: [event, ...args], nsp: this.nsp },
      opts: { rooms, flags: {}, except },
    });
    return this.client.sendCommand([
      'XADD', this.streamName, 'MAXLEN', '~', String(this.maxLen), '*',
      'uid', 'emitter', 'nsp', this.nsp, 'type', '3', 'data', data,
    ]);
  }
}
