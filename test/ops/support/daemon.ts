// stunnerd as an operator runs it: a config file on disk, the real CLI in its own process, the health
// server on a free loopback port polled for /ready, metrics scraped over HTTP, signals by PID.
// Inherited OTEL_* variables are removed so no test pushes metrics anywhere by accident.
import { once } from 'node:events';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freeTcpPort, freeUdpPort, stunnerd, type Proc } from '../../helpers/process.ts';
import { parseExposition, valueOf, type Sample } from './samples.ts';

export const USER = 'user1';
export const PASS = 'ops-Pa55word-7f3c';
export const REALM = 'ops.example.org';

const OTEL_UNSET: NodeJS.ProcessEnv = Object.fromEntries(Object.keys(process.env)
  .filter((k) => k.startsWith('OTEL_')).map((k) => [k, undefined]));

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `stunnerd-ops-${prefix}-`));
}

export interface Ports {
  readonly turn: number;
  readonly health: number;
  readonly metrics: number;
}

export async function freePorts(): Promise<Ports> {
  return { turn: await freeUdpPort(), health: await freeTcpPort(), metrics: await freeTcpPort() };
}

export type RawConfig = Record<string, unknown> & {
  admin: Record<string, unknown>;
  auth: Record<string, unknown>;
  listeners: Record<string, unknown>[];
  clusters: Record<string, unknown>[];
};

/** One TURN-UDP listener on 127.0.0.1 routed to a loopback cluster; static auth; health and metrics on. */
export function baseConfig(p: Ports, loglevel = 'all:INFO'): RawConfig {
  return {
    version: 'v1',
    admin: {
      name: 'ops',
      loglevel,
      metrics_endpoint: `http://127.0.0.1:${p.metrics}/metrics`,
      healthcheck_endpoint: `http://127.0.0.1:${p.health}`,
    },
    auth: { type: 'static', realm: REALM, credentials: { username: USER, password: PASS } },
    listeners: [{ name: 'udp', protocol: 'TURN-UDP', address: '127.0.0.1', port: p.turn, routes: ['loopback'] }],
    clusters: [{ name: 'loopback', type: 'STATIC', endpoints: ['127.0.0.1/32'] }],
  };
}

/** Writes in place (what `echo > file` does). */
export function writeConfig(file: string, config: RawConfig | string): void {
  writeFileSync(file, typeof config === 'string' ? config : stringify(config));
}

/** Writes a temp file next to `file` and renames it over (what editors and `kubectl cp`-style tools do). */
export function replaceConfig(file: string, config: RawConfig | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeConfig(tmp, config);
  renameSync(tmp, file);
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** performance.now() at exit. */
  readonly at: number;
}

/** /status, upstream's StunnerStatus (name and allocations read from admin.name and allocationCount). */
export interface StatusDoc {
  /** READY, NOT-READY or TERMINATING. */
  readonly status: string;
  readonly name: string;
  readonly configGeneration: number;
  readonly allocations: number;
  readonly listeners: readonly { name: string; port: number; allocations: number }[];
  readonly clusters: readonly { name: string }[];
  /** With several dataplane workers: each one's allocations. */
  readonly workers?: readonly { worker: number; allocations: number }[];
}

export interface Daemon {
  readonly proc: Proc;
  readonly pid: number;
  readonly healthUrl: string;
  readonly metricsUrl: string;
  readonly exit: Promise<Exit>;
  output(): string;
  status(): Promise<StatusDoc>;
  samples(): Promise<Sample[]>;
  value(name: string, labels?: Readonly<Record<string, string>>): Promise<number | undefined>;
  /** Polls /status until configGeneration reaches `generation`; resolves with the ms it took. */
  waitGeneration(generation: number, timeoutMs?: number): Promise<number>;
  signal(sig: NodeJS.Signals): void;
  alive(): boolean;
  /** SIGKILL if still running (test cleanup). */
  kill(): Promise<void>;
}

export interface StartOptions {
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly healthPort: number;
  readonly metricsPort?: number;
  /** How long /ready may take (default 20 s: the machine is shared). */
  readonly readyTimeoutMs?: number;
}

export async function startDaemon(o: StartOptions): Promise<Daemon> {
  const proc = stunnerd([...(o.args ?? [])], { ...OTEL_UNSET, ...o.env });
  const exit = once(proc.child, 'exit').then(([code, signal]) =>
    ({ code: code as number | null, signal: signal as NodeJS.Signals | null, at: performance.now() }));
  const healthUrl = `http://127.0.0.1:${o.healthPort}`;
  const metricsUrl = `http://127.0.0.1:${o.metricsPort ?? 0}/metrics`;
  const alive = () => proc.child.exitCode === null && proc.child.signalCode === null;
  const d: Daemon = {
    proc,
    pid: proc.child.pid!,
    healthUrl,
    metricsUrl,
    exit,
    output: () => proc.output(),
    status: async () => {
      const doc = (await (await fetch(`${healthUrl}/status`)).json()) as Omit<StatusDoc, 'name' | 'allocations'> &
        { admin: { name: string }; allocationCount: number };
      return { ...doc, name: doc.admin.name, allocations: doc.allocationCount };
    },
    samples: async () => {
      const res = await fetch(metricsUrl);
      if (res.status !== 200) throw new Error(`${metricsUrl}: HTTP ${res.status}`);
      return parseExposition(await res.text());
    },
    value: async (name, labels) => valueOf(await d.samples(), name, labels),
    waitGeneration: async (generation, timeoutMs = 15_000) => {
      const t0 = performance.now();
      await waitUntil(`configGeneration ${generation}`, async () => (await d.status()).configGeneration >= generation,
        timeoutMs, d);
      return Math.round(performance.now() - t0);
    },
    signal: (sig) => {
      proc.child.kill(sig);
    },
    alive,
    kill: async () => {
      if (!alive()) return;
      proc.child.kill('SIGKILL');
      await exit;
    },
  };
  await waitUntil('/ready 200', async () => (await fetch(`${healthUrl}/ready`)).status === 200,
    o.readyTimeoutMs ?? 20_000, d);
  return d;
}

/** Polls `check` every 50 ms; fails early, with the daemon's output, if the daemon exits. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number,
  daemon?: Daemon): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    if (daemon !== undefined && !daemon.alive()) {
      throw new Error(`stunnerd exited while waiting for ${what}:\n${daemon.output().slice(-4000)}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last})${daemon === undefined ? ''
    : `:\n${daemon.output().slice(-4000)}`}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
