// One relay socket of a UDP allocation: the relayed transport address, datagrams from peers up to the
// allocation, datagrams from the client out to peers. The allocator (udp-relay.ts) binds and releases it.
import { createSocket, type Socket } from 'node:dgram';
import type { TransportAddress } from '../stun/address.ts';
import type { RelaySocket } from '../turn/relay.ts';
import { ipLiteralLookup } from './ip-literal-lookup.ts';
import { sendQueueFull } from './udp-send-queue.ts';

/**
 * An unbound datagram socket for relaying to peers of `family`. It is never connect()ed, not even while its
 * allocation has a single peer: a permission admits every port of the peer's IP (RFC 8656 §9), and a connected
 * socket would hear one port only, while datagrams from peers without a permission would be dropped by the
 * kernel instead of counted (test/turn/relay-peers.test.ts).
 */
export function createRelayDatagramSocket(family: 4 | 6): Socket {
  return createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6, lookup: ipLiteralLookup });
}

export class UdpRelaySocket implements RelaySocket {
  readonly address: TransportAddress;
  readonly socket: Socket;
  onPeerDatagram: (data: Buffer, address: string, port: number) => void = () => {};
  readonly #release: (relay: UdpRelaySocket) => void;
  #closed = false;

  constructor(socket: Socket, address: TransportAddress, release: (relay: UdpRelaySocket) => void) {
    this.socket = socket;
    this.address = address;
    this.#release = release;
    socket.on('message', (msg, rinfo) => this.onPeerDatagram(msg, rinfo.address, rinfo.port));
  }

  send(data: Uint8Array, port: number, address: string): boolean {
    if (this.#closed) return true;
    if (sendQueueFull(this.socket)) return false;
    this.socket.send(data, port, address);
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onPeerDatagram = () => {};
    this.#release(this);
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}
