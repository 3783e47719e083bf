// The counters listeners and clusters share: connections open and opened, packets and bytes each way.
// Every field is a slot of one Float64Array<ArrayBufferLike> (the object's "memory"): a private array in a single-threaded
// gateway, one worker's stripe of a SharedArrayBuffer when several workers relay (see registry.ts). The
// data path still writes plain fields (`stats.rxPackets++`); the accessors are inlined by V8.

/** Slots of the traffic counters; subclasses lay their own fields out after `TRAFFIC_SLOTS`. */
const CONNECTIONS = 0;
const CONNECTIONS_TOTAL = 1;
const RX_PACKETS = 2;
const RX_BYTES = 3;
const TX_PACKETS = 4;
const TX_BYTES = 5;
export const TRAFFIC_SLOTS = 6;

/** Slots holding "open now" values: zeroed when the worker that owned them is gone. */
export const TRAFFIC_GAUGE_SLOTS: readonly number[] = [CONNECTIONS];

export class TrafficCounters {
  /** This object's slots (see the layout above). */
  readonly memory: Float64Array<ArrayBufferLike>;

  constructor(memory: Float64Array<ArrayBufferLike>) {
    this.memory = memory;
  }

  /** Connections open now (what "connection" means differs for listeners and clusters: docs/metrics.md). */
  get connections(): number { return this.memory[CONNECTIONS]; }
  set connections(v: number) { this.memory[CONNECTIONS] = v; }
  get connectionsTotal(): number { return this.memory[CONNECTIONS_TOTAL]; }
  set connectionsTotal(v: number) { this.memory[CONNECTIONS_TOTAL] = v; }
  get rxPackets(): number { return this.memory[RX_PACKETS]; }
  set rxPackets(v: number) { this.memory[RX_PACKETS] = v; }
  get rxBytes(): number { return this.memory[RX_BYTES]; }
  set rxBytes(v: number) { this.memory[RX_BYTES] = v; }
  get txPackets(): number { return this.memory[TX_PACKETS]; }
  set txPackets(v: number) { this.memory[TX_PACKETS] = v; }
  get txBytes(): number { return this.memory[TX_BYTES]; }
  set txBytes(v: number) { this.memory[TX_BYTES] = v; }

  connectionOpened(): void {
    this.memory[CONNECTIONS]++;
    this.memory[CONNECTIONS_TOTAL]++;
  }

  connectionClosed(): void {
    this.memory[CONNECTIONS]--;
  }
}
