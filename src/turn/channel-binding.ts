// A channel binding (RFC 8656 §12): a channel number standing for one peer transport address. Its lifetime
// (10 minutes, then 5 minutes of cooldown) is decided here and nowhere else.
import type { Permission } from './permission.ts';
import type { PeerLink, RelaySocket } from './relay.ts';
import { CHANNEL_COOLDOWN_S, CHANNEL_LIFETIME_S } from './timers.ts';

export class ChannelBinding {
  readonly number: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly permission: Permission;
  /** The relay socket of the peer's address family. */
  readonly relay: RelaySocket;
  /** The relay's own path to this peer, once opened (RelaySocket.openPeerLink): ChannelData goes out on it. */
  link: PeerLink | undefined = undefined;
  /** One of the allocation's MAX_PEER_LINKS is this channel's: its link opens with its first ChannelData. */
  linkSlot = false;
  #expiresAt: number;
  #expired = false;

  constructor(number: number, peerAddress: string, peerPort: number, permission: Permission, relay: RelaySocket,
    now: number) {
    this.number = number;
    this.peerAddress = peerAddress;
    this.peerPort = peerPort;
    this.permission = permission;
    this.relay = relay;
    this.#expiresAt = now + CHANNEL_LIFETIME_S * 1000;
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  /** After expiry the number stays reserved for this peer for the cooldown, relaying nothing. Read per packet. */
  get expired(): boolean {
    return this.#expired;
  }

  /**
   * §12: "Refreshing the binding (by the server receiving a ChannelBind request rebinding the channel to the
   * same peer) resets the time-to-expiry timer back to 10 minutes." During the cooldown it revives the binding.
   */
  refresh(now: number): void {
    this.#expiresAt = now + CHANNEL_LIFETIME_S * 1000;
    this.#expired = false;
  }

  /**
   * Applies the lifetime at `now`; true once the binding is to be removed. §12: "A channel binding lasts for
   * 10 minutes unless refreshed." Then "the client MUST wait 5 minutes after the channel binding expires before
   * attempting to bind the channel number to a different transport address or the transport address to a
   * different channel number": the server holds both that long, so a late ChannelData is not misdelivered.
   */
  expire(now: number): boolean {
    if (!this.#expired && this.#expiresAt <= now) this.#expired = true;
    return this.#expired && this.#expiresAt + CHANNEL_COOLDOWN_S * 1000 <= now;
  }
}
