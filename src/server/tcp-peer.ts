// A peer data connection (RFC 6062): a node:net socket between a relayed TCP address and a peer, paused until
// ConnectionBind joins it to a client data connection.
import type { Socket } from 'node:net';
import type { ClientLink } from '../turn/client-link.ts';
import type { PeerFlow, TcpPeerConnection } from '../turn/tcp-relay.ts';
import { StreamClientLink } from './stream-link.ts';
import { splice } from './tcp-splice.ts';

export class NetTcpPeerConnection implements TcpPeerConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  onClose: () => void = () => {};
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    // Errors end in 'close'; an unheard 'error' would throw.
    socket.on('error', () => {});
    socket.once('close', () => this.onClose());
  }

  bind(client: ClientLink, flow: PeerFlow): boolean {
    if (!(client instanceof StreamClientLink) || this.#socket.destroyed) return false;
    splice(client, this.#socket, flow);
    return true;
  }

  close(): void {
    this.#socket.destroy();
  }
}
