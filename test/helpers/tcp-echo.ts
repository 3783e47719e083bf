// A TCP echo peer on loopback, standing in for a media server reached over an RFC 6062 TCP relay.
import { createServer, type Socket } from 'node:net';

export interface TcpEchoPeer {
  readonly address: string;
  readonly port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Bytes echoed so far. */
  echoed: number;
  close(): Promise<void>;
}

export function startTcpEchoPeer(address = '127.0.0.1'): Promise<TcpEchoPeer> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    peer.accepted++;
    sockets.add(s);
    s.on('data', (d) => {
      peer.echoed += d.length;
      s.write(d);
    });
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  const peer: TcpEchoPeer = {
    address, port: 0, accepted: 0, echoed: 0,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
  return new Promise((resolve) => server.listen(0, address, () => {
    (peer as { port: number }).port = (server.address() as { port: number }).port;
    resolve(peer);
  }));
}
