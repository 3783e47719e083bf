// A permission (RFC 8656 §9): lets datagrams between an allocation and one peer IP address through. The
// admission decision is cached here, so the data path reads fields instead of matching clusters.
import type { Admission } from '../cluster/peer-admission.ts';
import type { ChannelBinding } from './channel-binding.ts';

export class Permission {
  /** The peer IP, in the text form Node reports for datagrams from it. */
  readonly peer: string;
  expiresAt: number;
  /** False once expired; the object may linger while channel bindings to this peer still reference it. */
  live = true;
  /** The cluster this peer belongs to; undefined once a reconfiguration no longer admits it. */
  admission: Admission | undefined;
  /** The first channel bound to a port of this peer: the common case, reached without a lookup. */
  channel: ChannelBinding | undefined = undefined;
  /** Further channels to other ports of the same peer, by port. */
  moreChannels: Map<number, ChannelBinding> | undefined = undefined;

  /** False on a TCP allocation: there the upstream connections are the peer data connections (RFC 6062). */
  readonly upstream: boolean;

  constructor(peer: string, admission: Admission, expiresAt: number, upstream = true) {
    this.peer = peer;
    this.admission = admission;
    this.expiresAt = expiresAt;
    this.upstream = upstream;
    if (upstream) admission.stats.connectionOpened();
  }

  /** Installs or refreshes (CreatePermission, ChannelBind): an upstream connection while live. */
  refresh(admission: Admission, expiresAt: number): void {
    this.expiresAt = expiresAt;
    if (!this.live) {
      this.live = true;
      this.admission = admission;
      if (this.upstream) admission.stats.connectionOpened();
      return;
    }
    this.readmit(admission);
  }

  /** Swaps the cached admission after a reconfiguration, moving the upstream-connection count. */
  readmit(next: Admission | undefined): void {
    const prev = this.admission;
    this.admission = next;
    if (!this.live || !this.upstream || prev?.stats === next?.stats) return;
    prev?.stats.connectionClosed();
    next?.stats.connectionOpened();
  }

  /** The permission ran out or its allocation ended: the upstream connection closes. */
  expire(): void {
    if (!this.live) return;
    this.live = false;
    if (this.upstream) this.admission?.stats.connectionClosed();
  }

  get hasChannels(): boolean {
    return this.channel !== undefined;
  }

  /** The channel bound to `port` of this peer, if any. */
  channelFor(port: number): ChannelBinding | undefined {
    const c = this.channel;
    if (c !== undefined && c.peerPort === port) return c;
    return this.moreChannels?.get(port);
  }

  addChannel(binding: ChannelBinding): void {
    if (this.channel === undefined) this.channel = binding;
    else (this.moreChannels ??= new Map()).set(binding.peerPort, binding);
  }

  removeChannel(binding: ChannelBinding): void {
    if (this.channel !== binding) {
      this.moreChannels?.delete(binding.peerPort);
      return;
    }
    this.channel = undefined;
    // Promote another binding so the fast field stays useful.
    if (this.moreChannels !== undefined) {
      for (const [port, b] of this.moreChannels) {
        this.channel = b;
        this.moreChannels.delete(port);
        break;
      }
    }
  }
}
