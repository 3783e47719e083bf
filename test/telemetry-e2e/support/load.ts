// Bounded load from coturn's turnutils_uclient through the gateway to coturn's turnutils_peer echo peer, and the
// promtool check used on scrapes taken meanwhile. Missing tools fail the test (CI installs coturn and promtool).
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

/** An echo peer on a free port; another port is tried when something took the first one meanwhile. */
export async function startTurnutilsPeer(): Promise<EchoPeerProc> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeUdpPort();
    try {
      const proc = await turnutilsPeer('127.0.0.1', port);
      return { port, proc, stop: async () => void await proc.stop('SIGKILL') };
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
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

