// Plain counters for one listener. The data path increments fields directly; telemetry reads them at
// collection time (docs/metrics.md: no OpenTelemetry call per packet). Like every stats object, the values
// are slots of one Float64Array<ArrayBufferLike> (see traffic-counters.ts); this is the layout after the traffic counters:
//   allocationsActive | drops (one per reason) | send drops (to client, to peer) | peer unreachable (per ICMP
//   error) | requests (method x code) |
//   allocation duration histogram
// (its counts, sum, count, min, max and its exemplars: histogram.ts)
import { ERROR_REASONS } from '../stun/constants.ts';
import { Histogram, ALLOCATION_DURATION_BUCKETS, clearHistogram, histogramSlots } from './histogram.ts';
import { TRAFFIC_GAUGE_SLOTS, TRAFFIC_SLOTS, TrafficCounters } from './traffic-counters.ts';

export const REQUEST_METHODS = [
  'allocate', 'refresh', 'create_permission', 'channel_bind', 'binding', 'connect', 'connection_bind',
] as const;
export type RequestMethod = (typeof REQUEST_METHODS)[number];

export const DROP_REASONS = [
  'malformed', 'no_permission', 'no_allocation', 'forbidden_peer', 'rate_limited', 'quota',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Index of a drop reason in `ListenerStats.drops`; resolved once by callers, never per packet. */
export const DROP = {
  malformed: 0, no_permission: 1, no_allocation: 2, forbidden_peer: 3, rate_limited: 4, quota: 5,
} as const satisfies Record<DropReason, number>;

/** Where a datagram was going when it was dropped because its socket's send queue was full (`sendDrops`). */
export const SEND_DROP_SIDES = ['client', 'peer'] as const;
export const SEND_DROP = { client: 0, peer: 1 } as const satisfies Record<(typeof SEND_DROP_SIDES)[number], number>;

/** ICMP errors the kernel reported for datagrams relayed to a peer (`peerUnreachable`), by what it said:
 *  port unreachable (nothing listens on the peer's port), administratively prohibited (a firewall's reject),
 *  anything else fatal (protocol unreachable). */
export const PEER_UNREACHABLE_KINDS = ['port_unreachable', 'prohibited', 'other'] as const;
export type PeerUnreachableKind = (typeof PEER_UNREACHABLE_KINDS)[number];
export const PEER_UNREACHABLE = { port_unreachable: 0, prohibited: 1, other: 2 } as const satisfies
  Record<PeerUnreachableKind, number>;

/** Every response code a request can be answered with: success and the codes STUN and TURN define. */
export const RESPONSE_CODES: readonly number[] = [200, ...Object.keys(ERROR_REASONS).map(Number)];
/** Slot of a response code in a method's row; a code outside RESPONSE_CODES counts as 500. */
const CODE_SLOT = new Int8Array(700).fill(-1);
RESPONSE_CODES.forEach((code, i) => (CODE_SLOT[code] = i));

const ALLOCATIONS_ACTIVE = TRAFFIC_SLOTS;
const DROPS = ALLOCATIONS_ACTIVE + 1;
const SEND_DROPS = DROPS + DROP_REASONS.length;
const PEER_UNREACHABLE_SLOTS = SEND_DROPS + SEND_DROP_SIDES.length;
const REQUESTS = PEER_UNREACHABLE_SLOTS + PEER_UNREACHABLE_KINDS.length;
const HISTOGRAM = REQUESTS + REQUEST_METHODS.length * RESPONSE_CODES.length;

/** Answered requests by method and code, counted in a fixed table. */
export class RequestCounts {
  readonly #memory: Float64Array<ArrayBufferLike>;

  constructor(memory: Float64Array<ArrayBufferLike>) {
    this.#memory = memory;
  }

  count(method: RequestMethod, code: number): void {
    let slot = code >= 0 && code < CODE_SLOT.length ? CODE_SLOT[code] : -1;
    if (slot < 0) slot = CODE_SLOT[500];
    this.#memory[REQUEST_METHODS.indexOf(method) * RESPONSE_CODES.length + slot]++;
  }

  /** The count of a `requestKey`. */
  get(key: number): number | undefined {
    const code = key % 1000;
    const slot = code < CODE_SLOT.length ? CODE_SLOT[code] : -1;
    const n = slot < 0 ? 0 : this.#memory[Math.floor(key / 1000) * RESPONSE_CODES.length + slot];
    return n > 0 ? n : undefined;
  }

  /** How many (method, code) pairs have been counted. */
  get size(): number {
    let n = 0;
    for (const v of this.#memory) if (v > 0) n++;
    return n;
  }

  /** [requestKey, count] of every pair counted at least once. */
  *[Symbol.iterator](): IterableIterator<[number, number]> {
    const codes = RESPONSE_CODES.length;
    for (let i = 0; i < this.#memory.length; i++) {
      const n = this.#memory[i];
      if (n > 0) yield [Math.floor(i / codes) * 1000 + RESPONSE_CODES[i % codes], n];
    }
  }
}

/** Downstream connections are TCP/TLS connections, DTLS associations, and UDP 5-tuples with an allocation. */
export class ListenerStats extends TrafficCounters {
  /** Float64 slots one ListenerStats occupies. */
  static readonly SLOTS = HISTOGRAM + histogramSlots(ALLOCATION_DURATION_BUCKETS);
  /** Slots holding "open now" values: zeroed when the worker that owned them is gone. */
  static readonly GAUGE_SLOTS: readonly number[] = [...TRAFFIC_GAUGE_SLOTS, ALLOCATIONS_ACTIVE];
  /** Slots of the histogram, for those who create or combine the memory (they combine as histogram.ts says, not
   *  by a sum). */
  static readonly HISTOGRAM_SLOTS = { start: HISTOGRAM, end: HISTOGRAM + histogramSlots(ALLOCATION_DURATION_BUCKETS) };

  readonly name: string;
  /** Indexed by `DROP[reason]`. */
  readonly drops: Float64Array<ArrayBufferLike>;
  /** Indexed by `SEND_DROP[side]`: datagrams not sent because the kernel's send buffer and the socket's send
   *  queue were full (udp-send-queue.ts). Not a `drops` reason: that label's values are fixed by the contract. */
  readonly sendDrops: Float64Array<ArrayBufferLike>;
  /** Indexed by `PEER_UNREACHABLE[kind]`: ICMP errors reported on the connected sockets of channels
   *  (udp-relay-socket.ts, peer links); each stands for a datagram relayed to a peer that is not there. */
  readonly peerUnreachable: Float64Array<ArrayBufferLike>;
  /** Answered requests; keys as `requestKey`. */
  readonly requests: RequestCounts;
  readonly allocationDuration: Histogram;

  /** `memory` is cleared by whoever creates it (`initListenerMemory`); a new private one when absent. */
  constructor(name: string, memory?: Float64Array<ArrayBufferLike>) {
    if (memory === undefined) {
      memory = new Float64Array(ListenerStats.SLOTS);
      initListenerMemory(memory);
    }
    super(memory);
    this.name = name;
    this.drops = memory.subarray(DROPS, SEND_DROPS);
    this.sendDrops = memory.subarray(SEND_DROPS, PEER_UNREACHABLE_SLOTS);
    this.peerUnreachable = memory.subarray(PEER_UNREACHABLE_SLOTS, REQUESTS);
    this.requests = new RequestCounts(memory.subarray(REQUESTS, HISTOGRAM));
    this.allocationDuration = new Histogram(ALLOCATION_DURATION_BUCKETS, memory.subarray(HISTOGRAM, ListenerStats.SLOTS));
  }

  get allocationsActive(): number { return this.memory[ALLOCATIONS_ACTIVE]; }
  set allocationsActive(v: number) { this.memory[ALLOCATIONS_ACTIVE] = v; }

  countRequest(method: RequestMethod, code: number): void {
    this.requests.count(method, code);
  }
}

/** Sets the slots of a new ListenerStats (all 0, the histogram empty). */
export function initListenerMemory(memory: Float64Array<ArrayBufferLike>): void {
  memory.fill(0);
  const h = ListenerStats.HISTOGRAM_SLOTS;
  clearHistogram(memory.subarray(h.start, h.end), ALLOCATION_DURATION_BUCKETS);
}

export function requestKey(method: RequestMethod, code: number): number {
  return REQUEST_METHODS.indexOf(method) * 1000 + code;
}

/** Inverse of `requestKey`, for readers. */
export function splitRequestKey(key: number): { method: RequestMethod; code: number } {
  return { method: REQUEST_METHODS[Math.floor(key / 1000)], code: key % 1000 };
}
