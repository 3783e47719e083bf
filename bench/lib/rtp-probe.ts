// Runs bench/tools/rtp-probe.c (a paced many-flows load that times every echo), built here with gcc on first
// use, and measures the relay process's CPU over the probe's measured window. For TURN the flows are set up
// with the repo's TURN client (allocate, channel bind to the echo peer), whose sockets are then closed and
// their ports handed to the C tool, so the server relays its ChannelData on the same 5-tuples.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TurnClient, TurnClientError } from '../../src/client/turn-client.ts';
import { cpuSeconds } from './proc.ts';
import { ROOT } from './servers.ts';

const SOURCE = join(ROOT, 'bench/tools/rtp-probe.c');
const BINARY = join(ROOT, '.cache/bench/rtp-probe');
const CHANNEL = 0x4000;

/** Compiles the probe when the binary is missing or older than its source. */
export function buildProbe(): string {
  let fresh = false;
  try {
    fresh = statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs;
  } catch {
    // not built yet
  }
  if (!fresh) {
    mkdirSync(join(ROOT, '.cache/bench'), { recursive: true });
    execFileSync('gcc', ['-O2', '-o', BINARY, SOURCE], { stdio: 'inherit' });
  }
  return BINARY;
}

export interface ProbeOptions {
  /** turn: through a TURN server to the echo peer; bare: through the bare Node relay; direct: to the echo peer. */
  readonly mode: 'turn' | 'bare' | 'direct';
  /** The TURN server, the bare relay, or (direct) the echo peer. */
  readonly port: number;
  readonly peerPort: number;
  readonly flows: number;
  readonly pps: number;
  readonly size: number;
  readonly seconds: number;
  /** Wait for go() before sending. */
  readonly waitForGo?: boolean;
  /** The echo peer's process, whose CPU in the window is reported too. */
  readonly peerPid?: number;
}

export interface ProbeResult {
  readonly secs: number;
  readonly sent: number;
  readonly sendFailed: number;
  readonly recv: number;
  readonly avgUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  /** CPU seconds of the probe in the window. */
  readonly clientCpuS: number;
  /** Echoed messages per second in the window. */
  readonly pps: number;
  readonly lossPct: number;
  /** Relay CPU seconds in the window (NaN without a relay process). */
  readonly serverCpuS: number;
  /** Relay CPU microseconds per echoed message. */
  readonly cpuUsPerMsg: number;
  /** Echo peer CPU seconds in the window (NaN without peerPid). */
  readonly peerCpuS: number;
}

export interface ProbeRun {
  /** Resolves once every flow is set up. */
  readonly ready: Promise<void>;
  go(): void;
  readonly result: Promise<ProbeResult>;
}

/** One allocation with a channel to the echo peer, its client still open. */
async function turnFlow(o: ProbeOptions): Promise<TurnClient> {
  // An earlier run's allocation may still hold the port the kernel picks (437): then another port.
  for (let attempt = 1; ; attempt++) {
    const c = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: o.port, username: 'test', password: 'test' });
    try {
      await c.allocate();
      await c.channelBind(CHANNEL, { family: 4, address: '127.0.0.1', port: o.peerPort });
      return c;
    } catch (err) {
      c.close();
      if (!(err instanceof TurnClientError && err.code === 437) || attempt === 5) throw err;
    }
  }
}

/** Allocates `flows` TURN allocations with a channel to the echo peer; returns their local ports, all closed
 *  together at the end (a port closed earlier could be handed to the next flow's socket). */
async function turnPorts(o: ProbeOptions): Promise<number[]> {
  const clients: TurnClient[] = [];
  try {
    // A few at a time: quick, yet no burst of 401s from one address.
    for (let i = 0; i < o.flows; i += 16) {
      const batch = await Promise.allSettled(Array.from({ length: Math.min(16, o.flows - i) }, () => turnFlow(o)));
      for (const r of batch) if (r.status === 'fulfilled') clients.push(r.value);
      const failed = batch.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
    return clients.map((c) => c.transport.localAddress.port);
  } finally {
    for (const c of clients) c.close();
  }
}

// Probes still running: killed if this process exits first (each also stops by itself after its window).
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Starts the probe; `relayPid` is the process whose CPU is measured (0: none, as in direct mode). */
export function probeRun(relayPid: number, o: ProbeOptions): ProbeRun {
  const binary = buildProbe();
  let go: () => void = () => {};
  let readyResolve: () => void = () => {};
  let readyReject: (e: unknown) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  const result = (async (): Promise<ProbeResult> => {
    const flowArgs = o.mode === 'turn' ? ['-b', (await turnPorts(o)).join(',')] : ['-n', String(o.flows)];
    const child = spawn(binary, ['-p', String(o.mode === 'direct' ? o.peerPort : o.port), ...flowArgs,
      '-r', String(o.pps), '-l', String(o.size), '-s', String(o.seconds), ...(o.mode === 'direct' ? [] : ['-c']),
      ...(o.waitForGo ? ['-g'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    go = () => child.stdin.write('go\n');
    const timer = setTimeout(() => child.kill('SIGKILL'), (o.seconds + 300) * 1000);
    let c0 = 0;
    let cpu = NaN;
    let p0 = 0;
    let peerCpu = NaN;
    let json = '';
    for await (const line of createInterface({ input: child.stdout })) {
      if (line === 'ready') readyResolve();
      else if (line === 'start') {
        if (relayPid > 0) c0 = cpuSeconds(relayPid);
        if (o.peerPid !== undefined) p0 = cpuSeconds(o.peerPid);
      } else if (line === 'stop') {
        if (relayPid > 0) cpu = cpuSeconds(relayPid) - c0;
        if (o.peerPid !== undefined) peerCpu = cpuSeconds(o.peerPid) - p0;
      }
      else if (line.startsWith('{')) json = line;
    }
    clearTimeout(timer);
    if (json === '') throw new Error('rtp-probe ended without a result');
    const r = JSON.parse(json) as Omit<ProbeResult, 'pps' | 'lossPct' | 'serverCpuS' | 'cpuUsPerMsg' | 'peerCpuS'>;
    const none = (x: number) => (x < 0 ? NaN : x);
    return {
      ...r, avgUs: none(r.avgUs), p50Us: none(r.p50Us), p99Us: none(r.p99Us), maxUs: none(r.maxUs),
      pps: r.recv / r.secs, lossPct: r.sent > 0 ? (100 * Math.max(0, r.sent - r.recv)) / r.sent : 0,
      serverCpuS: cpu, cpuUsPerMsg: (cpu * 1e6) / r.recv, peerCpuS: peerCpu,
    };
  })();
  result.catch(readyReject);
  return { ready, result, go: () => go() };
}

/** Runs the probe to the end (no waiting for go()). */
export function probeLoad(relayPid: number, o: ProbeOptions): Promise<ProbeResult> {
  return probeRun(relayPid, { ...o, waitForGo: false }).result;
}
