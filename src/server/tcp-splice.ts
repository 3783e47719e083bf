// RFC 6062 §5.4: after ConnectionBind, bytes go as they are between the client data connection and the peer
// data connection. Lossless, so backpressure pauses the reading side instead of dropping: memory per pair is
// bounded by the sockets' high-water marks.
//
// Counting (docs/metrics.md, "Connection statistics"): there are no frames here, so every chunk read from one
// side and written to the other is one packet, its length the bytes, on the listener (rx from the client, tx
// to it) and on the peer's cluster (tx to the peer, rx from it).
import type { Socket } from 'node:net';
import type { PeerFlow } from '../turn/tcp-relay.ts';
import type { StreamClientLink } from './stream-link.ts';

/** After one side has sent FIN, the other gets this long to finish before it is destroyed. */
const HALF_CLOSE_LINGER_MS = 30_000;

export function splice(link: StreamClientLink, peer: Socket, flow: PeerFlow): void {
  const client = link.socket;
  const stats = link.stats;
  link.startRaw((chunk) => {
    stats.rxPackets++;
    stats.rxBytes += chunk.length;
    const cluster = flow.cluster;
    cluster.txPackets++;
    cluster.txBytes += chunk.length;
    if (!peer.write(chunk)) client.pause();
  });
  peer.on('data', (chunk: Buffer) => {
    const cluster = flow.cluster;
    cluster.rxPackets++;
    cluster.rxBytes += chunk.length;
    stats.txPackets++;
    stats.txBytes += chunk.length;
    if (!client.write(chunk)) peer.pause();
  });
  peer.on('drain', () => client.resume());
  client.on('drain', () => peer.resume());
  // A FIN is passed on once what was read before it is written; a reset or error closes both at once.
  halfClose(peer, client);
  halfClose(client, peer);
  peer.resume();
}

function halfClose(from: Socket, to: Socket): void {
  from.once('end', () => {
    to.end();
    to.setTimeout(HALF_CLOSE_LINGER_MS, () => to.destroy());
  });
  from.once('close', () => {
    if (!to.writableEnded) to.destroy();
  });
}
