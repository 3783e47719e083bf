// A UDP relay between clients and a server that counts every datagram and byte it passes each way: the
// ground truth for a listener's counters when the client is a program we do not control (turnutils_uclient).
// Each client source gets its own upstream socket, so the server still sees one 5-tuple per client (and
// SO_REUSEPORT still spreads them over workers).
import { createSocket, type Socket } from 'node:dgram';

export interface UdpTap {
  /** Where clients send. */
  readonly port: number;
  readonly toServer: { packets: number; bytes: number };
  readonly fromServer: { packets: number; bytes: number };
  /** Client sources seen. */
  readonly clients: number;
  close(): Promise<void>;
}

export async function udpTap(server: { address: string; port: number }): Promise<UdpTap> {
  const front = createSocket('udp4');
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  const upstream = new Map<string, Socket>();
  const toServer = { packets: 0, bytes: 0 };
  const fromServer = { packets: 0, bytes: 0 };
  front.on('message', (msg, from) => {
    const key = `${from.address}:${from.port}`;
    let up = upstream.get(key);
    if (up === undefined) {
      const s = createSocket('udp4');
      up = s;
      upstream.set(key, s);
      s.on('message', (reply) => {
        fromServer.packets++;
        fromServer.bytes += reply.length;
        front.send(reply, from.port, from.address);
      });
      s.bind(0, '127.0.0.1');
    }
    toServer.packets++;
    toServer.bytes += msg.length;
    up.send(msg, server.port, server.address);
  });
  return {
    port: front.address().port,
    toServer,
    fromServer,
    get clients() {
      return upstream.size;
    },
    async close() {
      for (const s of upstream.values()) s.close();
      await new Promise<void>((r) => front.close(() => r()));
    },
  };
}
