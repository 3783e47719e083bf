// A benchmark that starts upstream stunnerd runs inside a network namespace of its own (.ci/netns.sh: loopback and
// a veth pair that leads nowhere), because upstream binds its listeners and relay sockets on every interface. Its
// script calls reexecInNetns() first: outside a namespace, the same command runs again inside one and this process
// exits with its status; inside, it returns.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './servers.ts';

/** Whether this process runs inside .ci/netns.sh. */
export function inNetns(): boolean {
  return process.env.STUNNER_IN_NETNS === '1';
}

/** Returns inside .ci/netns.sh; outside, runs this script again inside it and exits with its status. */
export function reexecInNetns(): void {
  if (inNetns()) return;
  const r = spawnSync('bash', [join(ROOT, '.ci/netns.sh'), process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit' });
  if (r.error !== undefined) throw r.error;
  process.exit(r.status ?? 1);
}
