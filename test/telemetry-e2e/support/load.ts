// Bounded load from coturn's turnutils_uclient through the gateway to coturn's turnutils_peer echo peer, and the
// promtool check used on scrapes taken meanwhile. Missing tools fail the test (CI installs coturn and promtool).
import { spawn } from 'node:child_process';
import { freeUdpPort, type Proc } from '../../helpers/process.ts';
import { turnutilsPeer, uclient, type UclientResult } from '../../helpers/uclient.ts';
import { PASS, USER } from './stunnerd.ts';

export interface UclientRun {
  /** Settles when uclient has exited (it is bounded by `timeout`). */
  readonly done: Promise<UclientResult>;
  readonly startedAt: number;
}

export interface EchoPeerProc {
  readonly port: number;
  readonly proc: Proc;
  stop(): Promise<void>;
}

export async function startTurnutilsPeer(): Promise<EchoPeerProc> {
  const port = await freeUdpPort();
  const proc = await turnutilsPeer('127.0.0.1', port);
  return { port, proc, stop: async () => void await proc.stop('SIGKILL') };
}

/**
 * `sessions` allocations, each sending `messages` ChannelData messages of `size` bytes every `intervalMs`
 * through the gateway on `port` to the echo peer; every session deletes its allocation at the end.
 */
export function runUclient(o: { port: number; peerPort: number; sessions: number; messages: number; size: number;
  intervalMs: number; timeoutS?: number }): UclientRun {
  return {
    startedAt: Date.now(),
    done: uclient({
      port: o.port, user: USER, password: PASS, sessions: o.sessions, messages: o.messages, size: o.size,
      intervalMs: o.intervalMs, peer: { address: '127.0.0.1', port: o.peerPort }, timeoutS: o.timeoutS ?? 60,
    }),
  };
}

/** `promtool check metrics` on an exposition: its output (empty when clean) and exit code. */
export function promtoolCheck(promtool: string, text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (c: Buffer) => (output += c.toString()));
    p.stderr.on('data', (c: Buffer) => (output += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}
