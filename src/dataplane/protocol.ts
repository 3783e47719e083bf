// What the main thread and a dataplane worker say to each other. Nothing here is per packet: configs,
// lifecycle, and the answers to them.
import type { StunnerConfig } from '../config/types.ts';
import type { LogFormat } from '../log/logger.ts';
import type { StatsBlocks } from '../stats/shared-stats.ts';

export interface WorkerInit {
  /** 0..n-1: the worker's stats stripe and its name in logs and metrics. */
  readonly id: number;
  readonly config: StunnerConfig;
  readonly blocks: StatsBlocks;
  readonly logFormat: LogFormat;
  readonly logLevels: string;
  /** Set when the worker replaces one that died while the gateway was draining. */
  readonly draining: boolean;
}

/** Listener name -> the port its socket is bound to. */
export type BoundPorts = Readonly<Record<string, number>>;

export interface WorkerError {
  readonly code?: string;
  readonly message: string;
}

export type ToWorker =
  | { readonly type: 'reconfigure'; readonly seq: number; readonly config: StunnerConfig; readonly blocks: StatsBlocks;
      readonly logLevels: string }
  | { readonly type: 'drain' }
  | { readonly type: 'stop'; readonly seq: number };

export type FromWorker =
  | { readonly type: 'started'; readonly ports: BoundPorts }
  | { readonly type: 'start-failed'; readonly error: WorkerError }
  | { readonly type: 'done'; readonly seq: number; readonly ports: BoundPorts }
  | { readonly type: 'failed'; readonly seq: number; readonly error: WorkerError };

export function workerError(err: unknown): WorkerError {
  const code = (err as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : undefined, message: err instanceof Error ? err.message : String(err) };
}
