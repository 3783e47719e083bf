// A permission (RFC 8656 §9): lets datagrams between an allocation and one peer IP address through. The
// admission decision is cached here, so the data path reads fields instead of matching clusters.
import type { Admission } from '../cluster/peer-admission.ts';
import type { ChannelBinding } from './channel-binding.ts';
import { PERMISSION_LIFETIME_S } from './timers.ts';

export class Permission {
  /** The peer IP, in the text form Node reports for datagrams from it. */
  readonly peer: string;
  /** False on a TCP allocation: there the upstream connections are the peer data connections (RFC 6062). */
  readonly upstream: boolean;
  #expiresAt: number;
  #live = true;
  #admission: Admission | undefined;
  /** The first channel bound to a port of this peer: the common case, reached without a lookup. */
  #channel: ChannelBinding | undefined = undefined;
  /** Further channels to other ports of the same peer, by port. */
  #moreChannels: Map<number, ChannelBinding> | undefined = undefined;

  /**
   * §9: "If no permission for that IP address exists, then a permission is created with the given IP address
   * and a time-to-expiry equal to Permission Lifetime." It opens an upstream connection.
   */
  constructor(peer: string, admission: Admission, now: number, upstream = true) {
    this.peer = peer;
    this.upstream = upstream;
    this.#admission = admission;
    this.#expiresAt = now + PERMISSION_LIFETIME_S * 1000;
    if (upstream) admission.stats.connectionOpened();
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  /** False once expired; the object may linger while channel bindings to this peer still reference it. */
  get live(): boolean {
    return this.#live;
  }

  /** The cluster this peer belongs to; undefined once a reconfiguration no longer admits it. */
  get admission(): Admission | undefined {
    return this.#admission;
  }

  /**
   * §9: "If a permission for that IP address already exists, then the time-to-expiry for that permission is
   * reset to Permission Lifetime." An expired one lingering for its channels comes back as a new upstream
   * connection.
   */
  refresh(admission: Admission, now: number): void {
    this.#expiresAt = now + PERMISSION_LIFETIME_S * 1000;
    if (!this.#live) {
      this.#live = true;
      this.#admission = admission;
      if (this.upstream) admission.stats.connectionOpened();
      return;
    }
    this.readmit(admission);
  }

  /** Swaps the cached admission after a reconfiguration, moving the upstream-connection count. */
  readmit(next: Admission | undefined): void {
    const prev = this.#admission;
    this.#admission = next;
    if (!this.#live || !this.upstream || prev?.stats === next?.stats) return;
    prev?.stats.connectionClosed();
    next?.stats.connectionOpened();
  }

  /**
   * Applies the lifetime at `now`; true once the permission is to be removed. §9: "Each permission's
   * time-to-expiry decreases down once per second until it reaches zero, at which point, the permission
   * expires and is deleted" — kept, not live, while a channel binding (in its cooldown) still holds it.
   */
  expire(now: number): boolean {
    if (this.#live && this.#expiresAt <= now) this.close();
    return !this.#live && this.#channel === undefined;
  }

  /** The permission ran out or its allocation ended: the upstream connection closes. */
  close(): void {
    if (!this.#live) return;
    this.#live = false;
    if (this.upstream) this.#admission?.stats.connectionClosed();
  }

  /** The channel bound to `port` of this peer, if any. */
  channelFor(port: number): ChannelBinding | undefined {
    const c = this.#channel;
    if (c !== undefined && c.peerPort === port) return c;
    return this.#moreChannels?.get(port);
  }

  addChannel(binding: ChannelBinding): void {
    if (this.#channel === undefined) this.#channel = binding;
    else (this.#moreChannels ??= new Map()).set(binding.peerPort, binding);
  }

  removeChannel(binding: ChannelBinding): void {
    if (this.#channel !== binding) {
      this.#moreChannels?.delete(binding.peerPort);
      return;
    }
    this.#channel = undefined;
    // Promote another binding so the fast field stays useful.
    if (this.#moreChannels !== undefined) {
      for (const [port, b] of this.#moreChannels) {
        this.#channel = b;
        this.#moreChannels.delete(port);
        break;
      }
    }
  }
}
