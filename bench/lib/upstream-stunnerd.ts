// Upstream stunnerd v1.2.1 as a benchmark server: the binary .ci/go-tools.sh builds from the Go module proxy
// (its cache's paths.env names it), started on the same config as startStunnerd's (user test/test, realm
// example.org, one TURN-UDP listener, peers on loopback allowed), stopped by its PID.
// Upstream binds its listener and every relay socket on all interfaces whatever the config says, so it runs only
// inside a network namespace of its own (.ci/netns.sh; bench/lib/netns.ts): requireUpstream() says so.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inNetns } from './netns.ts';
import { freeUdpPort, ROOT, type Server } from './servers.ts';

const BUILD = 'run `bash .ci/go-tools.sh` first (it needs Go and the Go module proxy, and builds upstream stunnerd ' +
  'v1.2.1 into a cache outside the work tree)';

/** Upstream stunnerd cannot run here: not built, built from other sources, or no network namespace. */
export class UpstreamUnavailableError extends Error {
  readonly code = 'ERR_BENCH_UPSTREAM';
}

/** The cache .ci/go-tools.sh builds into (the same default as there). */
function goToolsCache(): string {
  return process.env.STUNNER_GO_TOOLS
    ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'stunner-otel', 'go-tools');
}

let binary: string | undefined;

/** The upstream stunnerd binary built from the current .ci/upstream; throws UpstreamUnavailableError saying what to run. */
export function upstreamStunnerdBinary(): string {
  if (binary !== undefined) return binary;
  const envFile = join(goToolsCache(), 'paths.env');
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch {
    throw new UpstreamUnavailableError(`upstream stunnerd is not built (${envFile} does not exist): ${BUILD}`);
  }
  const path = /^UPSTREAM_STUNNERD=(.+)$/m.exec(text)?.[1];
  if (path === undefined) throw new UpstreamUnavailableError(`${envFile} names no UPSTREAM_STUNNERD: ${BUILD}`);
  // A build's directory carries the hash of .ci/upstream/go.sum it was built from (as .ci/go-tools.sh names it).
  const key = createHash('sha256').update(readFileSync(join(ROOT, '.ci/upstream/go.sum'))).digest('hex').slice(0, 12);
  if (!path.includes(`-${key}/`)) throw new UpstreamUnavailableError(`${path} was built from other .ci/upstream sources: ${BUILD}`);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new UpstreamUnavailableError(`${path} (UPSTREAM_STUNNERD in ${envFile}) is not an executable: ${BUILD}`);
  }
  binary = path;
  return path;
}

/** Throws unless upstream stunnerd is built and this process runs inside .ci/netns.sh. */
export function requireUpstream(): void {
  upstreamStunnerdBinary();
  if (!inNetns()) {
    throw new UpstreamUnavailableError('upstream stunnerd binds every interface, so it runs only inside a network ' +
      'namespace of its own: call reexecInNetns() first (`npm run bench` and `sh bin/node.sh bench/upstream.ts` do)');
  }
}

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** Upstream stunnerd with `--udp-thread-num=threads`: that many SO_REUSEPORT listener sockets, each with a readloop
 *  (0, its default: one plain socket, no multithreading of the listener). */
export async function startUpstreamStunnerd(threads: number): Promise<Server> {
  const port = await freeUdpPort();
  const health = `http://127.0.0.1:${await freeTcpPort()}`;
  const dir = mkdtempSync(join(tmpdir(), 'bench-upstream-'));
  const config = join(dir, 'stunnerd.json');
  writeFileSync(config, JSON.stringify({
    version: 'v1',
    // No metrics endpoint, as startStunnerd's; upstream still counts every packet in its OTel instruments.
    admin: { name: 'bench', loglevel: 'all:WARN', metrics_endpoint: '', healthcheck_endpoint: health },
    auth: { type: 'static', realm: 'example.org', credentials: { username: 'test', password: 'test' } },
    listeners: [{ name: 'udp', protocol: 'TURN-UDP', address: '127.0.0.1', port, routes: ['loopback'] }],
    clusters: [{ name: 'loopback', type: 'STATIC', endpoints: ['127.0.0.0/8'] }],
  }));
  const args = ['-c', `file://${config}`, `--udp-thread-num=${threads}`];
  const child = spawn(upstreamStunnerdBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  // Ready once /ready answers 200: its listener runs.
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`upstream stunnerd exited with ${child.exitCode}: ${out}`);
    try {
      if ((await fetch(`${health}/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`upstream stunnerd not ready within 15 s: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { pid: child.pid!, port, command: `${upstreamStunnerdBinary()} ${args.join(' ')}`, stop };
}
