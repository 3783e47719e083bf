// The client side of a TURN session as the core sees it: a way to send to the client's 5-tuple. The Node
// adapters implement it per transport and count listener tx packets/bytes in it.

export type ClientTransport = 'udp' | 'tcp' | 'tls' | 'dtls';

export interface ClientLink {
  readonly transport: ClientTransport;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Sends a STUN message. */
  send(message: Uint8Array): void;
  /** Sends a ChannelData message (stream transports pad it to 4 bytes, RFC 8656 §12.5). */
  sendChannelData(channel: number, payload: Uint8Array): void;
}
