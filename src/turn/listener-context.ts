// What the core needs from a listener: its name and counters, peer admission, relay sockets, and a way to
// route later packets from a client 5-tuple to its allocation.
import type { PeerAdmission } from '../cluster/peer-admission.ts';
import type { ListenerStats } from '../stats/listener-stats.ts';
import type { Allocation } from './allocation.ts';
import type { RelayAllocator } from './relay.ts';
import type { TcpRelayAllocator } from './tcp-relay.ts';

export interface ListenerContext {
  readonly name: string;
  /** Where it is bound, once it is (traces name it as the server's address). */
  readonly address?: { readonly address: string; readonly port: number };
  readonly stats: ListenerStats;
  /** Swapped by reconfiguration; read per control-plane request, never per packet. */
  readonly admission: PeerAdmission;
  readonly relays: RelayAllocator;
  /** TCP relays for RFC 6062 allocations: present on TCP and TLS listeners only. */
  readonly tcpRelays?: TcpRelayAllocator;
  /** The allocation of the 5-tuple of `link` now exists (or ended); route its packets accordingly. */
  attach(allocation: Allocation): void;
  detach(allocation: Allocation): void;
  /** The allocation got its relay and is answered with success (a UDP 5-tuple becomes a connection). */
  activated?(allocation: Allocation): void;
}
