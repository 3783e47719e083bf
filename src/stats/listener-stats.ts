// Plain counters for one listener. The data path increments fields directly; telemetry reads them at
// collection time (docs/metrics.md: no OpenTelemetry call per packet).
import { Histogram, ALLOCATION_DURATION_BUCKETS } from './histogram.ts';
import { TrafficCounters } from './traffic-counters.ts';

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

/** Downstream connections are TCP/TLS connections, DTLS associations, and UDP 5-tuples with an allocation. */
export class ListenerStats extends TrafficCounters {
  readonly name: string;
  allocationsActive = 0;
  /** Indexed by `DROP[reason]`. */
  readonly drops: number[] = [0, 0, 0, 0, 0, 0];
  /** Answered requests keyed `method * 1000 + code`; see `requestKey`. */
  readonly requests = new Map<number, number>();
  readonly allocationDuration = new Histogram(ALLOCATION_DURATION_BUCKETS);

  constructor(name: string) {
    super();
    this.name = name;
  }

  countRequest(method: RequestMethod, code: number): void {
    const key = requestKey(method, code);
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }
}

export function requestKey(method: RequestMethod, code: number): number {
  return REQUEST_METHODS.indexOf(method) * 1000 + code;
}

/** Inverse of `requestKey`, for readers. */
export function splitRequestKey(key: number): { method: RequestMethod; code: number } {
  return { method: REQUEST_METHODS[Math.floor(key / 1000)], code: key % 1000 };
}
