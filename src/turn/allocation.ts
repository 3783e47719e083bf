// An allocation (RFC 8656 §2.2): a relayed transport address bound to one client 5-tuple, with its
// permissions and channel bindings. It keeps their rules itself (handlers call its methods; its state changes
// in no other way), and it holds the data path, where everything touched is a field or one Map lookup that
// the protocol requires (channel number, peer address).
import { randomFillSync } from 'node:crypto';
import { Method, MessageClass, Attr } from '../stun/constants.ts';
import type { TransportAddress } from '../stun/address.ts';
import { XorPeerAddress } from '../stun/attributes/address.ts';
import { Icmp, type IcmpInfo } from '../stun/attributes/numeric.ts';
import { StunWriter } from '../stun/writer.ts';
import type { IntegrityKey } from '../stun/integrity.ts';
import { admits, type Admission } from '../cluster/peer-admission.ts';
import { DROP, PEER_UNREACHABLE, SEND_DROP, type PeerUnreachableKind } from '../stats/listener-stats.ts';
import { ChannelBinding } from './channel-binding.ts';
import type { ClientLink } from './client-link.ts';
import type { ListenerContext } from './listener-context.ts';
import { Permission } from './permission.ts';
import type { PeerLink, RelaySocket } from './relay.ts';
import type { TcpAllocation } from './tcp-allocation.ts';
import type { TraceRef } from './tracing.ts';

export type AllocationState = 'pending' | 'active' | 'closed';

/**
 * Channels that get a path of their own to their peer (RelaySocket.openPeerLink: over UDP a connected socket, one
 * descriptor each, through which ICMP errors are seen), the first four bound; each opens with its channel's first
 * ChannelData, so idle channels hold none. A WebRTC allocation binds one or two channels; further channels relay
 * through the relay socket alone.
 */
export const MAX_PEER_LINKS = 4;

/** The per-allocation limits (admin.limits), passed with each request since a reconfiguration may change them. */
export interface AllocationLimits {
  /** 0 = unlimited. */
  readonly maxPermissionsPerAllocation: number;
  readonly maxChannelsPerAllocation: number;
}

/** One peer IP of a CreatePermission request, with the admission decided for it. */
export interface PermissionGrant {
  readonly peer: string;
  readonly admission: Admission;
}

/** 'capacity' is answered 508 (Insufficient Capacity). */
export type GrantResult = 'granted' | 'capacity';

/** Answered 400 (Bad Request). */
export type ChannelConflict = 'number-bound-elsewhere' | 'peer-bound-elsewhere';

/** 'capacity' is answered 508. */
export type BindResult = 'bound' | ChannelConflict | 'capacity';

/** How many distinct peers an allocation remembers for its trace (a permission per peer IP). */
export const PEERS_REMEMBERED = 16;

let nextId = 1;

export class Allocation {
  readonly id = nextId++;
  readonly listener: ListenerContext;
  readonly client: ClientLink;
  readonly username: string;
  readonly userId: string;
  readonly key: IntegrityKey;
  readonly createdAt: number;
  /** The Allocate transaction, whose success response is resent on a retransmission (§7.2). */
  readonly allocateTransaction: string;
  #allocateResponse: Buffer | undefined = undefined;
  #expiresAt: number;
  #state: AllocationState = 'pending';
  #relay4: RelaySocket | undefined = undefined;
  #relay6: RelaySocket | undefined = undefined;
  #tcp: TcpAllocation | undefined = undefined;
  /** By peer IP text. */
  readonly #permissions = new Map<string, Permission>();
  /** By channel number. */
  readonly #channels = new Map<number, ChannelBinding>();
  /** Channels holding a peer link slot (at most MAX_PEER_LINKS), whether or not their link is open yet. */
  #peerLinks = 0;
  /** Transaction ids of Data indications: a random prefix and a counter, no RNG call per packet. */
  readonly #indicationTid = randomFillSync(Buffer.allocUnsafe(12));
  #indicationCount = 0;
  /** The span of the Allocate request that created it (tracing on): the parent of its allocation span. */
  trace: TraceRef | undefined = undefined;
  /** Relayed to and from peers over its life, UDP relays (RFC 6062 connections count in their cluster only). */
  toPeerPackets = 0;
  toPeerBytes = 0;
  fromPeerPackets = 0;
  fromPeerBytes = 0;
  /** The first PEERS_REMEMBERED peer IPs it was given permissions for, with their clusters. */
  readonly peersSeen: string[] = [];
  readonly clustersSeen: string[] = [];
  /** ICMP errors its peer links heard over its life, and the first PEERS_REMEMBERED peer transport addresses they
   *  came from. */
  peerUnreachable = 0;
  readonly peersUnreachable: { readonly address: string; readonly port: number }[] = [];

  constructor(listener: ListenerContext, client: ClientLink, username: string, userId: string, key: IntegrityKey,
    transaction: string, now: number, lifetimeS: number) {
    this.listener = listener;
    this.client = client;
    this.username = username;
    this.userId = userId;
    this.key = key;
    this.allocateTransaction = transaction;
    this.createdAt = now;
    this.#expiresAt = now + lifetimeS * 1000;
  }

  /** 'pending' until its relayed address is bound, 'active' while it relays, then 'closed' for good. */
  get state(): AllocationState {
    return this.#state;
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  get allocateResponse(): Buffer | undefined {
    return this.#allocateResponse;
  }

  /** Set for a TCP allocation (RFC 6062), which has no UDP relays. */
  get tcp(): TcpAllocation | undefined {
    return this.#tcp;
  }

  /** By peer IP text; changed only through grantPermissions, bindChannel, expire and close. */
  get permissions(): ReadonlyMap<string, Permission> {
    return this.#permissions;
  }

  /** By channel number; changed only through bindChannel, expire and close. */
  get channels(): ReadonlyMap<number, ChannelBinding> {
    return this.#channels;
  }

  relayFor(family: 4 | 6): RelaySocket | undefined {
    return family === 4 ? this.#relay4 : this.#relay6;
  }

  get relays(): RelaySocket[] {
    const out: RelaySocket[] = [];
    if (this.#relay4 !== undefined) out.push(this.#relay4);
    if (this.#relay6 !== undefined) out.push(this.#relay6);
    return out;
  }

  /**
   * The relayed transport address(es) are bound — UDP relays, one per family, or the relayed TCP address of an
   * RFC 6062 allocation — and the allocation starts relaying. False if it was closed in the meantime.
   */
  activate(relays: readonly RelaySocket[], tcp?: TcpAllocation): boolean {
    if (this.#state !== 'pending') return false;
    for (const r of relays) {
      if (r.address.family === 4) this.#relay4 = r;
      else this.#relay6 = r;
      r.onPeerDatagram = this.onPeerDatagram;
    }
    this.#tcp = tcp;
    this.#state = 'active';
    return true;
  }

  /** Keeps the Allocate success response for retransmissions of the Allocate request (§7.2). */
  keepAllocateResponse(response: Buffer): void {
    this.#allocateResponse = response;
  }

  /**
   * §8.2: "If the 'desired lifetime' is non-zero, then the request succeeds and the allocation's time-to-expiry
   * is set to the 'desired lifetime'." (Zero deletes the allocation: TurnServer.deleteAllocation.)
   */
  refresh(lifetimeS: number, now: number): void {
    this.#expiresAt = now + lifetimeS * 1000;
  }

  /**
   * A CreatePermission (§10.2): installs or refreshes a permission for each peer (§9), all of them, or none
   * ('capacity') when the new ones would pass max_permissions_per_allocation.
   */
  grantPermissions(grants: readonly PermissionGrant[], now: number, limits: AllocationLimits): GrantResult {
    const cap = limits.maxPermissionsPerAllocation;
    if (cap > 0) {
      const added = new Set<string>();
      for (const g of grants) if (!this.#permissions.has(g.peer)) added.add(g.peer);
      if (this.#permissions.size + added.size > cap) return 'capacity';
    }
    for (const g of grants) this.#grant(g.peer, g.admission, now);
    return 'granted';
  }

  /**
   * §12.2, the checks on the binding itself, either failing with 400: "The channel number is not currently bound
   * to a different transport address (same transport address is OK); The transport address is not currently
   * bound to a different channel number." A binding in its cooldown (§12) still holds both.
   */
  channelConflict(number: number, peer: TransportAddress): ChannelConflict | undefined {
    const bound = this.#channels.get(number);
    if (bound !== undefined && (bound.peerAddress !== peer.address || bound.peerPort !== peer.port)) {
      return 'number-bound-elsewhere';
    }
    const other = this.#permissions.get(peer.address)?.channelFor(peer.port);
    if (other !== undefined && other.number !== number) return 'peer-bound-elsewhere';
    return undefined;
  }

  /**
   * A ChannelBind (§12.2) whose peer was admitted, `relay` being the relay of the peer's family. A UDP
   * allocation only: a TCP allocation has no channels (RFC 6062).
   */
  bindChannel(number: number, peer: TransportAddress, admission: Admission, relay: RelaySocket, now: number,
    limits: AllocationLimits): BindResult {
    const conflict = this.channelConflict(number, peer);
    if (conflict !== undefined) return conflict;
    // "If the request is valid, but the server is unable to fulfill the request due to some capacity limit or
    // similar, the server replies with a 508 (Insufficient Capacity) error." Refreshing never is.
    const bound = this.#channels.get(number);
    const channelCap = limits.maxChannelsPerAllocation;
    if (bound === undefined && channelCap > 0 && this.#channels.size >= channelCap) return 'capacity';
    const permissionCap = limits.maxPermissionsPerAllocation;
    if (!this.#permissions.has(peer.address) && permissionCap > 0 && this.#permissions.size >= permissionCap) {
      return 'capacity';
    }
    // "If the server can satisfy the request, then the server creates or refreshes the channel binding using the
    // channel number in the CHANNEL-NUMBER attribute and the transport address in the XOR-PEER-ADDRESS
    // attribute. The server also installs or refreshes a permission for the IP address in the
    // XOR-PEER-ADDRESS attribute as described in Section 9."
    const permission = this.#grant(peer.address, admission, now);
    if (bound !== undefined) {
      bound.refresh(now);
    } else {
      const binding = new ChannelBinding(number, peer.address, peer.port, permission, relay, now);
      this.#channels.set(number, binding);
      permission.addChannel(binding);
      // The link itself opens with the channel's first ChannelData: an idle channel costs no socket.
      if (this.#peerLinks < MAX_PEER_LINKS && relay.openPeerLink !== undefined) {
        binding.linkSlot = true;
        this.#peerLinks++;
      }
    }
    return 'bound';
  }

  #grant(peer: string, admission: Admission, now: number): Permission {
    const existing = this.#permissions.get(peer);
    if (existing !== undefined) {
      existing.refresh(admission, now);
      return existing;
    }
    // On a TCP allocation the permission admits peer connections, which count as upstream connections themselves.
    const permission = new Permission(peer, admission, now, this.#tcp === undefined);
    this.#permissions.set(peer, permission);
    if (this.peersSeen.length < PEERS_REMEMBERED && !this.peersSeen.includes(peer)) this.peersSeen.push(peer);
    const cluster = admission.stats.cluster;
    if (!this.clustersSeen.includes(cluster)) this.clustersSeen.push(cluster);
    return permission;
  }

  /**
   * Applies the lifetimes at `now` (the server's one coarse timer calls it). True if the allocation itself has
   * expired, for the server to delete it; otherwise its channel bindings (§12) expire, then its permissions
   * (§9), so a permission whose last channel goes is removed in the same pass.
   */
  expire(now: number): boolean {
    if (this.#state !== 'active') return false;
    if (this.#expiresAt <= now) return true;
    for (const binding of this.#channels.values()) {
      if (!binding.expire(now)) continue;
      this.#channels.delete(binding.number);
      binding.permission.removeChannel(binding);
      if (binding.linkSlot) {
        binding.link?.close();
        binding.link = undefined;
        binding.linkSlot = false;
        this.#peerLinks--;
      }
    }
    for (const permission of this.#permissions.values()) {
      if (permission.expire(now)) this.#permissions.delete(permission.peer);
    }
    return false;
  }

  /**
   * Ends the allocation: its permissions close (and with them the upstream connections), its channels go, its
   * relays stop. Returns the state it was in ('closed' if it already was, and then does nothing).
   */
  close(): AllocationState {
    const was = this.#state;
    if (was === 'closed') return was;
    this.#state = 'closed';
    for (const p of this.#permissions.values()) p.close();
    this.#permissions.clear();
    this.#channels.clear();
    for (const r of this.relays) r.close();
    this.#tcp?.close();
    return was;
  }

  /**
   * Client -> peer over a channel (RFC 8656 §12.6). `frame` is a whole ChannelData message; listener rx
   * was counted by the adapter.
   */
  relayChannelData(frame: Buffer): void {
    const length = (frame[2] << 8) | frame[3];
    if (4 + length > frame.length) {
      this.listener.stats.drops[DROP.malformed]++;
      return;
    }
    const binding = this.#channels.get((frame[0] << 8) | frame[1]);
    if (binding === undefined || binding.expired || !binding.permission.live) {
      this.listener.stats.drops[DROP.no_permission]++;
      return;
    }
    const admission = binding.permission.admission;
    // The port was checked at ChannelBind, but a reconfiguration may since have narrowed the endpoint's range.
    const port = binding.peerPort;
    if (!admits(admission, port)) {
      this.listener.stats.drops[DROP.forbidden_peer]++;
      return;
    }
    let link = binding.link;
    if (link === undefined && binding.linkSlot) link = this.#openPeerLink(binding);
    const payload = frame.subarray(4, 4 + length);
    const counted = admission.stats;
    if (!(link !== undefined ? link.send(payload, counted) : binding.relay.send(payload, port, binding.peerAddress, counted))) {
      this.listener.stats.sendDrops[SEND_DROP.peer]++;
      return;
    }
    this.toPeerPackets++;
    this.toPeerBytes += length;
  }

  /** Client -> peer in a Send indication (§11.2), after the server has decoded and checked it. */
  relaySend(permission: Permission, data: Uint8Array, port: number, relay: RelaySocket): void {
    const admission = permission.admission;
    if (!admits(admission, port)) {
      this.listener.stats.drops[DROP.forbidden_peer]++;
      return;
    }
    if (!relay.send(data, port, permission.peer, admission.stats)) {
      this.listener.stats.sendDrops[SEND_DROP.peer]++;
      return;
    }
    this.toPeerPackets++;
    this.toPeerBytes += data.length;
  }

  /**
   * An ICMP error the channel's peer link heard: counted, and passed on to the client while the permission for the
   * peer lives (RFC 8656 §11.5): a Data indication with the peer's address and an ICMP attribute, and no DATA.
   * A client of RFC 5766, which knows no ICMP attribute, drops an indication without DATA (§10.4 there).
   */
  #onPeerUnreachable(binding: ChannelBinding, kind: PeerUnreachableKind, icmp: IcmpInfo | undefined): void {
    this.listener.stats.peerUnreachable[PEER_UNREACHABLE[kind]]++;
    this.peerUnreachable++;
    const { peerAddress: address, peerPort: port } = binding;
    const heard = this.peersUnreachable;
    if (heard.length < PEERS_REMEMBERED && !heard.some((p) => p.address === address && p.port === port)) {
      heard.push({ address, port });
    }
    if (icmp === undefined || !binding.permission.live) return;
    this.client.send(this.#indication(address, port, 12)
      .add(Icmp, icmp)
      .finish());
  }

  /** Opens the peer link of a channel that holds a slot; once: a relay that opens none gives the slot back. */
  #openPeerLink(binding: ChannelBinding): PeerLink | undefined {
    const link = binding.relay.openPeerLink?.(binding.peerAddress, binding.peerPort,
      (kind, icmp) => this.#onPeerUnreachable(binding, kind, icmp));
    if (link === undefined) {
      binding.linkSlot = false;
      this.#peerLinks--;
      return undefined;
    }
    link.onPeerDatagram = (data) => this.#onChannelPeerDatagram(binding, data);
    binding.link = link;
    return link;
  }

  /**
   * Peer -> client on a channel's peer link: the datagram is from the channel's peer transport address, so while
   * the channel and its permission are live it goes out as ChannelData without looking either up (the permission
   * in #permissions for the peer is the binding's: one lingers there while a channel holds it). Otherwise it
   * takes the general path.
   */
  #onChannelPeerDatagram(binding: ChannelBinding, data: Buffer): void {
    const permission = binding.permission;
    if (binding.expired || !permission.live) {
      this.onPeerDatagram(data, binding.peerAddress, binding.peerPort);
      return;
    }
    if (this.#admitFromPeer(permission.admission, binding.peerPort, data)) this.client.sendChannelData(binding.number, data);
  }

  /** A peer datagram under a live permission: counted as cluster rx, or dropped as forbidden_peer (false). */
  #admitFromPeer(admission: Admission | undefined, port: number, data: Buffer): boolean {
    if (!admits(admission, port)) {
      this.listener.stats.drops[DROP.forbidden_peer]++;
      return false;
    }
    admission.stats.rxPackets++;
    admission.stats.rxBytes += data.length;
    this.fromPeerPackets++;
    this.fromPeerBytes += data.length;
    return true;
  }

  /** Peer -> client (§11.3, §12.7): over the bound channel if any, else in a Data indication. */
  readonly onPeerDatagram = (data: Buffer, address: string, port: number): void => {
    const permission = this.#permissions.get(address);
    if (permission === undefined || !permission.live) {
      // §9: "If no match is found, relaying is not permitted and the server silently discards the UDP datagram."
      this.listener.stats.drops[DROP.no_permission]++;
      return;
    }
    if (!this.#admitFromPeer(permission.admission, port, data)) return;
    const channel = permission.channelFor(port);
    if (channel !== undefined && !channel.expired) {
      this.client.sendChannelData(channel.number, data);
      return;
    }
    this.client.send(this.#dataIndication(data, address, port));
  };

  #dataIndication(data: Buffer, address: string, port: number): Buffer {
    return this.#indication(address, port, data.length + 4).addRaw(Attr.DATA, data).finish();
  }

  /** A Data indication from the peer at `address`:`port`, with `more` bytes of attributes to come after its address. */
  #indication(address: string, port: number, more: number): StunWriter {
    const tid = this.#indicationTid;
    tid.writeUInt32BE(this.#indicationCount = (this.#indicationCount + 1) >>> 0, 8);
    return new StunWriter(Method.data, MessageClass.indication, tid, 44 + more)
      .add(XorPeerAddress, { family: address.includes(':') ? 6 : 4, address, port });
  }
}
