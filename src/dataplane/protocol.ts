// What the main thread and a dataplane worker say to each other. Nothing here is per packet: configs,
// lifecycle, and the answers to them.
import type { MessagePort } from 'node:worker_threads';
import type { StunnerConfig } from '../config/types.ts';
import type { LogFormat } from '../log/logger.ts';
import type { SharedDataplaneState } from '../shared/dataplane-state.ts';
import type { StatsBlocks } from '../stats/shared-stats.ts';
import type { ThreadHeap } from '../telemetry/runtime-metrics.ts';
import type { TracingInit } from '../telemetry/tracing.ts';
import type { DnsAnswers } from './main-resolver.ts';

export interface WorkerInit {
  /** 0..n-1: the worker's stats stripe and its name in logs and metrics. */
  readonly id: number;
  readonly config: StunnerConfig;
  readonly blocks: StatsBlocks;
  readonly logFormat: LogFormat;
  readonly logLevels: string;
  /** Set when the worker replaces one that died while the gateway was draining. */
  readonly draining: boolean;
  /** The FlowOwners table every worker shares. */
  readonly flows: SharedArrayBuffer;
  /** Relay ports, quota, 401 budget and nonce key of every worker. */
  readonly shared: SharedDataplaneState;
  /** The main thread's answers for the STRICT_DNS host names of `config`. */
  readonly dns: DnsAnswers;
  /** TURN-UDP clients with an allocation get a connected socket of their own (udp-listener.ts). */
  readonly clientSockets: boolean;
  /** Set when tracing is on: every worker exports its own spans. */
  readonly tracing: TracingInit | undefined;
}

/** A datagram for a flow another worker owns, sent over the MessagePort between the two workers. */
export interface ForwardedDatagram {
  readonly listener: string;
  readonly data: Uint8Array;
  readonly address: string;
  readonly port: number;
}

/** Listener name -> the port its socket is bound to. */
export type BoundPorts = Readonly<Record<string, number>>;

export interface WorkerError {
  readonly code?: string;
  readonly message: string;
}

export type ToWorker =
  | { readonly type: 'reconfigure'; readonly seq: number; readonly config: StunnerConfig; readonly blocks: StatsBlocks;
      readonly logLevels: string; readonly relayPorts: SharedDataplaneState['relayPorts']; readonly dns: DnsAnswers }
  /** New answers for the STRICT_DNS host names: resolve the clusters again. */
  | { readonly type: 'dns'; readonly dns: DnsAnswers }
  | { readonly type: 'drain' }
  /** The end of a channel to another worker (sent with the port in the transfer list). */
  | { readonly type: 'peer'; readonly worker: number; readonly port: MessagePort }
  | { readonly type: 'stop'; readonly seq: number };

export type FromWorker =
  | { readonly type: 'started'; readonly ports: BoundPorts }
  | { readonly type: 'start-failed'; readonly error: WorkerError }
  | { readonly type: 'done'; readonly seq: number; readonly ports: BoundPorts }
  | { readonly type: 'failed'; readonly seq: number; readonly error: WorkerError }
  /** Once a second: the worker's heap, and its garbage collections since the last report ([kind, seconds]). */
  | { readonly type: 'runtime'; readonly heap: ThreadHeap; readonly gc: readonly (readonly [number, number])[] };

export function workerError(err: unknown): WorkerError {
  const code = (err as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : undefined, message: err instanceof Error ? err.message : String(err) };
}
