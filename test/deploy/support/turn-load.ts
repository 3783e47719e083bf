// A bounded TURN load with coturn's turnutils_uclient through the gateway to a turnutils_peer UDP echo peer
// (coturn: apt-get install -y coturn). Every session allocates, binds a channel, echoes its messages through the
// peer and deletes its allocation (Refresh lifetime 0) at the end.
import { startChild } from './child.ts';

export interface LoadResult {
  exitCode: number | string;
  output: string;
}

export async function runUclientLoad(opts: {
  turnPort: number; user: string; password: string; peerPort: number;
  sessions: number; size: number; messages: number; intervalMs: number; timeoutMs: number;
}): Promise<LoadResult> {
  const peer = startChild('turnutils_peer', 'turnutils_peer', ['-L', '127.0.0.1', '-p', String(opts.peerPort)]);
  try {
    await new Promise((r) => setTimeout(r, 300));
    const uclient = startChild('turnutils_uclient', 'turnutils_uclient', [
      '-u', opts.user, '-w', opts.password, '-p', String(opts.turnPort),
      '-m', String(opts.sessions), '-l', String(opts.size), '-n', String(opts.messages), '-z', String(opts.intervalMs),
      '-c', '-e', '127.0.0.1', '-r', String(opts.peerPort), '127.0.0.1',
    ]);
    const timer = setTimeout(() => { void uclient.stop(2000); }, opts.timeoutMs);
    const exitCode = await uclient.exited;
    clearTimeout(timer);
    return { exitCode, output: uclient.output() };
  } finally {
    await peer.stop(2000);
  }
}
