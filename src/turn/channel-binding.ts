// A channel binding (RFC 8656 §12): a channel number standing for one peer transport address.
import type { Permission } from './permission.ts';
import type { RelaySocket } from './relay.ts';

export class ChannelBinding {
  readonly number: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly permission: Permission;
  /** The relay socket of the peer's address family. */
  readonly relay: RelaySocket;
  expiresAt: number;
  /** After expiry the number stays reserved for this peer until `expiresAt + cooldown`, relaying nothing. */
  expired = false;

  constructor(number: number, peerAddress: string, peerPort: number, permission: Permission, relay: RelaySocket,
    expiresAt: number) {
    this.number = number;
    this.peerAddress = peerAddress;
    this.peerPort = peerPort;
    this.permission = permission;
    this.relay = relay;
    this.expiresAt = expiresAt;
  }
}
