// coturn's load client (turnutils_uclient) and echo peer (turnutils_peer), run as a user would against
// stunnerd, with uclient's summary parsed. Missing tools fail the test: CI installs coturn.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { run, type Proc } from './process.ts';

export function requireTool(name: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`]).toString().trim();
  } catch {
    throw new Error(`${name} is not installed (apt-get install -y coturn); the interop tests need it`);
  }
}

export interface UclientResult {
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  readonly errors: string[];
  readonly output: string;
  readonly code: number | null;
}

export interface UclientOptions {
  readonly port: number;
  readonly user: string;
  /** The password, or with `secret` the TURN REST shared secret (-W). */
  readonly password?: string;
  readonly secret?: string;
  readonly sessions: number;
  readonly messages: number;
  readonly size?: number;
  /** Per-session send interval in ms (-z). */
  readonly intervalMs?: number;
  readonly peer?: { address: string; port: number };
  /** Client-to-client (-y) instead of an echo peer. */
  readonly c2c?: boolean;
  readonly sendIndications?: boolean;
  readonly transport?: 'udp' | 'tcp' | 'tls' | 'dtls';
  /** RFC 6062 TCP relay (-T). */
  readonly tcpRelay?: boolean;
  readonly timeoutS?: number;
  readonly extra?: string[];
}

/**
 * uclient's own channel-number collision. For an echo peer (`-e`), its start_connection binds a random channel
 * number to the peer's port + 1 twice and then a new random number to the peer itself ("we are playing with the
 * TURN server trying to screw it", coturn's startuclient.c). One session in 16,384 draws the same number twice;
 * RFC 8656 §12.2 then requires 400 and uclient exits. Such a run is repeated once (twice in a row is one in 2^28
 * per session); any other 400, or this one again, fails the test.
 */
export const CHANNEL_NUMBER_COLLISION = /channel bind: error 400 \(Channel Bound To Another Peer\)/;

export function uclientCollided(output: string): boolean {
  return CHANNEL_NUMBER_COLLISION.test(output);
}

export async function uclient(o: UclientOptions): Promise<UclientResult> {
  const first = await uclientOnce(o);
  if (o.c2c || o.tcpRelay || !uclientCollided(first.output)) return first;
  process.stderr.write('# turnutils_uclient drew one channel number twice (see CHANNEL_NUMBER_COLLISION); repeating the run once\n');
  return uclientOnce(o);
}

async function uclientOnce(o: UclientOptions): Promise<UclientResult> {
  const bin = requireTool('turnutils_uclient');
  const args = ['-u', o.user, '-p', String(o.port), '-m', String(o.sessions), '-n', String(o.messages),
    '-l', String(o.size ?? 100), '-z', String(o.intervalMs ?? 5), '-c'];
  if (o.secret !== undefined) args.push('-W', o.secret);
  else args.push('-w', o.password ?? '');
  if (o.c2c) args.push('-y');
  else if (o.peer !== undefined) args.push('-e', o.peer.address, '-r', String(o.peer.port));
  if (o.sendIndications) args.push('-s');
  if (o.transport === 'tcp') args.push('-t');
  if (o.transport === 'tls') args.push('-t', '-S');
  if (o.transport === 'dtls') args.push('-S');
  if (o.tcpRelay) args.push('-T');
  args.push(...(o.extra ?? []), '127.0.0.1');
  const child = spawn('timeout', ['--kill-after=5', String(o.timeoutS ?? 90), bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const [code] = await once(child, 'exit');
  const totals = [...out.matchAll(/tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/gm)].at(-1);
  const lost = /Total lost packets (\d+)/.exec(out);
  const errors = [...out.matchAll(/error (\d{3}) \(([^)]*)\)/g)].map((m) => `${m[1]} ${m[2]}`);
  return {
    sent: totals ? Number(totals[1]) : 0,
    received: totals ? Number(totals[2]) : 0,
    lost: lost ? Number(lost[1]) : -1,
    errors,
    output: out,
    code: code as number | null,
  };
}

/**
 * coturn's UDP echo peer on loopback, returned once it echoes. turnutils_peer does not exit when its port is
 * taken: it keeps retrying the bind ("bind: Address already in use"), so only an echo proves it listens.
 */
export async function turnutilsPeer(address: string, port: number): Promise<Proc> {
  const p = run(requireTool('turnutils_peer'), ['-L', address, '-p', String(port)]);
  const probe = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => probe.bind(0, address, resolve));
    const echoed = once(probe, 'message');
    const deadline = Date.now() + 5000;
    let answered = false;
    void echoed.then(() => (answered = true), () => undefined);
    while (!answered && Date.now() < deadline && p.child.exitCode === null) {
      probe.send('probe', port, address);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!answered) {
      await p.stop('SIGKILL');
      throw new Error(`turnutils_peer on ${address}:${port} did not echo within 5 s: ${p.output().slice(-500)}`);
    }
  } finally {
    probe.close();
  }
  return p;
}
