// An allocation (RFC 8656 §2.2): a relayed transport address bound to one client 5-tuple, with its
// permissions and channel bindings. The two data-path methods live here; everything they touch is a field
// or one Map lookup that the protocol requires (channel number, peer address).
import { randomFillSync } from 'node:crypto';
import { Method, MessageClass, Attr } from '../stun/constants.ts';
import { XorPeerAddress } from '../stun/attributes/address.ts';
import { StunWriter } from '../stun/writer.ts';
import type { IntegrityKey } from '../stun/integrity.ts';
import { admits } from '../cluster/peer-admission.ts';
import { DROP } from '../stats/listener-stats.ts';
import type { ChannelBinding } from './channel-binding.ts';
import type { ClientLink } from './client-link.ts';
import type { ListenerContext } from './listener-context.ts';
import type { Permission } from './permission.ts';
import type { RelaySocket } from './relay.ts';
import type { TcpAllocation } from './tcp-allocation.ts';

export type AllocationState = 'pending' | 'active' | 'closed';

let nextId = 1;

export class Allocation {
  readonly id = nextId++;
  readonly listener: ListenerContext;
  readonly client: ClientLink;
  readonly username: string;
  readonly userId: string;
  readonly key: IntegrityKey;
  readonly createdAt: number;
  expiresAt: number;
  state: AllocationState = 'pending';
  relay4: RelaySocket | undefined;
  relay6: RelaySocket | undefined;
  /** Set for a TCP allocation (RFC 6062), which has no UDP relays. */
  tcp: TcpAllocation | undefined = undefined;
  /** By peer IP text. */
  readonly permissions = new Map<string, Permission>();
  /** By channel number. */
  readonly channels = new Map<number, ChannelBinding>();
  /** The Allocate transaction and its success response, resent on a retransmission (§7.2). */
  readonly allocateTransaction: string;
  allocateResponse: Buffer | undefined;
  /** Transaction ids of Data indications: a random prefix and a counter, no RNG call per packet. */
  readonly #indicationTid = randomFillSync(Buffer.allocUnsafe(12));
  #indicationCount = 0;

  constructor(listener: ListenerContext, client: ClientLink, username: string, userId: string, key: IntegrityKey,
    transaction: string, now: number, lifetimeS: number) {
    this.listener = listener;
    this.client = client;
    this.username = username;
    this.userId = userId;
    this.key = key;
    this.allocateTransaction = transaction;
    this.createdAt = now;
    this.expiresAt = now + lifetimeS * 1000;
  }

  relayFor(family: 4 | 6): RelaySocket | undefined {
    return family === 4 ? this.relay4 : this.relay6;
  }

  get relays(): RelaySocket[] {
    const out: RelaySocket[] = [];
    if (this.relay4 !== undefined) out.push(this.relay4);
    if (this.relay6 !== undefined) out.push(this.relay6);
    return out;
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
    const binding = this.channels.get((frame[0] << 8) | frame[1]);
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
    binding.relay.send(frame.subarray(4, 4 + length), binding.peerPort, binding.peerAddress);
    admission.stats.txPackets++;
    admission.stats.txBytes += length;
  }

  /** Client -> peer in a Send indication (§10.2), after the server has decoded and checked it. */
  relaySend(permission: Permission, data: Uint8Array, port: number, relay: RelaySocket): void {
    const admission = permission.admission;
    if (!admits(admission, port)) {
      this.listener.stats.drops[DROP.forbidden_peer]++;
      return;
    }
    relay.send(data, port, permission.peer);
    admission.stats.txPackets++;
    admission.stats.txBytes += data.length;
  }

  /** Peer -> client (§10.3, §12.6): over the bound channel if any, else in a Data indication. */
  readonly onPeerDatagram = (data: Buffer, address: string, port: number): void => {
    const permission = this.permissions.get(address);
    if (permission === undefined || !permission.live) {
      // §10.3: "If no such permission exists, the server silently discards the datagram."
      this.listener.stats.drops[DROP.no_permission]++;
      return;
    }
    const admission = permission.admission;
    if (!admits(admission, port)) {
      this.listener.stats.drops[DROP.forbidden_peer]++;
      return;
    }
    admission.stats.rxPackets++;
    admission.stats.rxBytes += data.length;
    const channel = permission.channelFor(port);
    if (channel !== undefined && !channel.expired) {
      this.client.sendChannelData(channel.number, data);
      return;
    }
    this.client.send(this.#dataIndication(data, address, port));
  };

  #dataIndication(data: Buffer, address: string, port: number): Buffer {
    const tid = this.#indicationTid;
    tid.writeUInt32BE(this.#indicationCount = (this.#indicationCount + 1) >>> 0, 8);
    return new StunWriter(Method.data, MessageClass.indication, tid, 48 + data.length)
      .add(XorPeerAddress, { family: address.includes(':') ? 6 : 4, address, port })
      .addRaw(Attr.DATA, data)
      .finish();
  }
}
