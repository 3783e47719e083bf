// A bounded TURN load with coturn's turnutils_uclient through the gateway to a turnutils_peer UDP echo peer
// (coturn: apt-get install -y coturn). Every session allocates, binds a channel, echoes its messages through the
// peer and deletes its allocation (Refresh lifetime 0) at the end.
import { turnutilsPeer, uclientCollided } from '../../helpers/uclient.ts';
import { startChild } from './child.ts';

export interface LoadResult {
  exitCode: number | string;
  output: string;
}

export interface LoadOptions {
  turnPort: number; user: string; password: string; peerPort: number;
  sessions: number; size: number; messages: number; intervalMs: number; timeoutMs: number;
}

export async function runUclientLoad(opts: LoadOptions): Promise<LoadResult> {
  const peer = await turnutilsPeer('127.0.0.1', opts.peerPort);
  try {
    const first = await runOnce(opts);
    // uclient's own one-in-16,384 channel-number draw (see uclientCollided): repeated once.
    return first.exitCode !== 0 && uclientCollided(first.output) ? await runOnce(opts) : first;
  } finally {
    await peer.stop('SIGKILL');
  }
}

async function runOnce(opts: LoadOptions): Promise<LoadResult> {
  const uclient = startChild('turnutils_uclient', 'turnutils_uclient', [
    '-u', opts.user, '-w', opts.password, '-p', String(opts.turnPort),
    '-m', String(opts.sessions), '-l', String(opts.size), '-n', String(opts.messages), '-z', String(opts.intervalMs),
    '-c', '-e', '127.0.0.1', '-r', String(opts.peerPort), '127.0.0.1',
  ]);
  const timer = setTimeout(() => { void uclient.stop(2000); }, opts.timeoutMs);
  const exitCode = await uclient.exited;
  clearTimeout(timer);
  return { exitCode, output: uclient.output() };
}
