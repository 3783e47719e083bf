// A UDP echo peer on loopback, standing in for a media server.
import { createSocket, type Socket } from 'node:dgram';

export interface EchoPeer {
  readonly port: number;
  readonly address: string;
  received: number;
  close(): Promise<void>;
}

export function startEchoPeer(address = '127.0.0.1'): Promise<EchoPeer> {
  const s: Socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const peer = {
    port: 0, address, received: 0,
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
  s.on('message', (m, r) => {
    peer.received++;
    s.send(m, r.port, r.address);
  });
  return new Promise((resolve) => s.bind(0, address, () => {
    peer.port = s.address().port;
    resolve(peer);
  }));
}
