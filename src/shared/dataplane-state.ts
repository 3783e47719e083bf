// The state the dataplanes of every worker thread share: created once by the main thread, and sent to every
// worker (workerData, postMessage). Structured clone shares a SharedArrayBuffer rather than copying it, so each
// worker's pools, quota and limiter built on these buffers are one pool, quota and limiter; the nonce key is
// copied, which is all it needs to be.
//
// What a worker holds in them (relay ports, reservations, allocation counts, locked words) is tagged with its
// id, which it adds to its copy of the state (stateForWorker); when a worker dies, the main thread gives all of
// it back (releaseWorkerHoldings) before it starts the worker again under the same id.
import { randomBytes } from 'node:crypto';
import type { ListenerConfig } from '../config/types.ts';
import { RelayPortPool } from '../server/port-pool.ts';
import type { TurnSharedState } from '../turn/turn-server.ts';
import { SharedTokenBuckets } from './ip-buckets.ts';
import { RelayReservations } from './relay-reservations.ts';
import { holderTag } from './spin-lock.ts';
import { SharedUserCounts } from './user-counts.ts';

/** One listener's relay port state. */
export interface RelayPortBuffers {
  /** The RelayPortPool of its UDP relays. */
  readonly udp: SharedArrayBuffer;
  /** The RelayPortPool of its TCP relays (RFC 6062). */
  readonly tcp: SharedArrayBuffer;
  /** The RelayReservations of its UDP relays (EVEN-PORT with R). */
  readonly reservations: SharedArrayBuffer;
}

/** Also the `shared` option of every worker's TurnServer, with `worker` set (stateForWorker). */
export interface SharedDataplaneState extends TurnSharedState {
  readonly quota: SharedArrayBuffer;
  readonly challenges: SharedArrayBuffer;
  readonly nonceSecret: Uint8Array;
  /** By listener name. Filled in the main thread only (relayPortBuffers), before a config that names the
   *  listener goes to the workers with the state. */
  readonly relayPorts: Map<string, RelayPortBuffers>;
}

/** What a worker's relay allocators of one listener take (UdpRelayOptions, TcpRelayOptions). */
export interface SharedRelays {
  readonly udp: { readonly ports: RelayPortPool; readonly reservations: RelayReservations };
  readonly tcp: { readonly ports: RelayPortPool };
}

/** Main thread, once: the state for every worker. */
export function createSharedDataplaneState(): SharedDataplaneState {
  return {
    quota: SharedUserCounts.createBuffer(),
    challenges: SharedTokenBuckets.createBuffer(),
    nonceSecret: randomBytes(32),
    relayPorts: new Map(),
  };
}

/**
 * Main thread: the relay port buffers of listener `name`, created the first time the name is seen. Call it for
 * every listener of a config, then send the state with the config: a listener that goes and comes back under
 * the same name finds its ports as its relays left them.
 */
export function relayPortBuffers(state: SharedDataplaneState, name: string): RelayPortBuffers {
  let buffers = state.relayPorts.get(name);
  if (buffers === undefined) {
    buffers = {
      udp: RelayPortPool.createBuffer(),
      tcp: RelayPortPool.createBuffer(),
      reservations: RelayReservations.createBuffer(),
    };
    state.relayPorts.set(name, buffers);
  }
  return buffers;
}

/**
 * Worker, once at start: the state as worker `worker` (its id in worker-pool.ts) uses it. Its TurnServer
 * (quota, 401 budget) and its relay pools (sharedRelays) tag what they hold with the id.
 */
export function stateForWorker(state: SharedDataplaneState, worker: number): SharedDataplaneState {
  holderTag(worker);
  return { ...state, worker };
}

/**
 * Worker: the shared pools and reservation table of listener `l`, over the buffers the main thread made; what
 * they claim is tagged with `state.worker`.
 */
export function sharedRelays(
  state: SharedDataplaneState, l: Pick<ListenerConfig, 'name' | 'min_relay_port' | 'max_relay_port'>,
): SharedRelays {
  const buffers = state.relayPorts.get(l.name);
  // A buffer made here would be this worker's alone: every other worker would pick the same ports.
  if (buffers === undefined) throw new Error(`listener ${l.name}: no shared relay port buffers (relayPortBuffers() in the main thread)`);
  const { worker } = state;
  return {
    udp: {
      ports: new RelayPortPool(l.min_relay_port, l.max_relay_port, buffers.udp, worker),
      reservations: new RelayReservations(buffers.reservations, worker),
    },
    tcp: { ports: new RelayPortPool(l.min_relay_port, l.max_relay_port, buffers.tcp, worker) },
  };
}

/** What releaseWorkerHoldings gave back. */
export interface WorkerHoldings {
  /** Relay ports, UDP and TCP, of every listener (reserved ones included). */
  readonly ports: number;
  /** Reservations (EVEN-PORT with R) it made that nobody had claimed. */
  readonly reservations: number;
  /** Allocations counted against max_allocations and user_quota. */
  readonly allocations: number;
}

/**
 * Main thread, when worker `worker` has exited (its 'exit' event) and before a worker is started again under
 * its id: gives back everything it held in the shared state, and frees the words it held locked if it died
 * inside a section. Throws if another worker holds the allocation counts' lock for over a second (it died too;
 * call this again after that worker's 'exit').
 */
export function releaseWorkerHoldings(state: SharedDataplaneState, worker: number): WorkerHoldings {
  let ports = 0;
  let reservations = 0;
  for (const buffers of state.relayPorts.values()) {
    // The reservations first: a worker that takes one afterwards finds its port gone (adopt), and answers so.
    reservations += new RelayReservations(buffers.reservations).releaseWorker(worker);
    ports += RelayPortPool.attach(buffers.udp).releaseWorker(worker);
    ports += RelayPortPool.attach(buffers.tcp).releaseWorker(worker);
  }
  new SharedTokenBuckets(state.challenges).releaseWorker(worker);
  const allocations = new SharedUserCounts(state.quota).releaseWorker(worker);
  return { ports, reservations, allocations };
}
