// Runs bench/lib/echo-client.ts against a relay and measures the relay process's CPU over the same window.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { cpuSeconds } from './proc.ts';
import { ROOT } from './servers.ts';

export interface LoopResult {
  /** Echoed messages per second. */
  readonly pps: number;
  /** Relay CPU microseconds per echoed message (4 datagrams through the relay). */
  readonly cpuUsPerMsg: number;
  readonly cpuPct: number;
  readonly lossPct: number;
}

export async function closedLoop(mode: 'turn' | 'bare', relayPid: number, relayPort: number, peerPort: number,
  o: { size: number; flows: number; window: number; seconds: number }): Promise<LoopResult> {
  const child = fork(join(ROOT, 'bench/lib/echo-client.ts'),
    [mode, String(relayPort), String(peerPort), String(o.size), String(o.flows), String(o.window), String(o.seconds)],
    { stdio: 'inherit' });
  let c0 = 0;
  const end = await new Promise<{ secs: number; sent: number; recv: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('echo client timed out')), (o.seconds + 30) * 1000);
    child.on('message', (m: { mark: string; secs: number; sent: number; recv: number }) => {
      if (m.mark === 'start') c0 = cpuSeconds(relayPid);
      if (m.mark === 'end') {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => code !== 0 && reject(new Error(`echo client exited ${code}`)));
  });
  const cpu = cpuSeconds(relayPid) - c0;
  return {
    pps: end.recv / end.secs,
    cpuUsPerMsg: (cpu * 1e6) / end.recv,
    cpuPct: (100 * cpu) / end.secs,
    lossPct: end.sent > 0 ? (100 * Math.max(0, end.sent - end.recv)) / end.sent : 0,
  };
}
