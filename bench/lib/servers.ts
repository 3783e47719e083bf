// The processes a benchmark compares: stunnerd (from a YAML config, as users start it), coturn, the bare
// Node relay, and coturn's UDP echo peer. Each binds 127.0.0.1 only and is stopped by its PID.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSocket } from 'node:dgram';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Server {
  readonly pid: number;
  readonly port: number;
  /** With `allTransports`: the TLS and DTLS listeners' port (UDP and TCP share `port`). */
  readonly tlsPort?: number;
  /** How it was started, for the report. */
  readonly command?: string;
  stop(): Promise<void>;
}

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return port;
}

/** A port free for both UDP and TCP on loopback now (a UDP and a TCP listener share it, as in coturn). */
export async function freeDualPort(): Promise<number> {
  for (;;) {
    const port = await freeUdpPort();
    const s = createServer();
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.listen(port, '127.0.0.1', () => s.close(() => r(true)));
    });
    if (ok) return port;
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
}

async function waitForOutput(child: ChildProcess, text: string, timeoutMs = 15_000): Promise<void> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}": ${out}`)), timeoutMs);
    const on = (d: Buffer) => {
      out += d;
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (c) => reject(new Error(`exited with ${c} before "${text}": ${out}`)));
  });
}

export interface StunnerdOptions {
  /** Extra admin settings, e.g. metrics_endpoint or limits. */
  readonly admin?: Record<string, unknown>;
  readonly env?: NodeJS.ProcessEnv;
  readonly nodeArgs?: string[];
  /** UDP worker threads (`--udp-thread-num`); 1 by default, stated on the command line whenever stunnerd has the flag. */
  readonly workers?: number;
  /** TURN-UDP and TURN-TCP on `port`, TURN-TLS and TURN-DTLS on `tlsPort` (a fresh self-signed certificate), as
   *  coturn listens; default: TURN-UDP only. */
  readonly allTransports?: boolean;
}

/** Thrown for a worker count above 1 by a stunnerd without `--udp-thread-num`. */
export class WorkersUnavailableError extends Error {
  readonly code = 'ERR_BENCH_WORKERS';
  constructor(workers: number) {
    super(`workers: flag not available yet (stunnerd --help has no --udp-thread-num; asked for ${workers})`);
  }
}

let udpThreadFlag: boolean | undefined;

/** Whether this stunnerd takes `-u, --udp-thread-num N` (read once from its --help). */
export function hasUdpThreadFlag(): boolean {
  udpThreadFlag ??= execFileSync(process.execPath, ['src/cmd/stunnerd.ts', '--help'], { cwd: ROOT }).toString()
    .includes('--udp-thread-num');
  return udpThreadFlag;
}

/** The worker arguments of a stunnerd command line: `--udp-thread-num N`, or none when the flag does not exist and N is 1. */
export function workerArgs(workers = 1): string[] {
  if (hasUdpThreadFlag()) return ['--udp-thread-num', String(workers)];
  if (workers !== 1) throw new WorkersUnavailableError(workers);
  return [];
}

/** stunnerd on 127.0.0.1:<free port>, user test/test, realm example.org, peers on loopback allowed. */
export async function startStunnerd(opts: StunnerdOptions = {}): Promise<Server> {
  const port = opts.allTransports ? await freeDualPort() : await freeUdpPort();
  const tlsPort = opts.allTransports ? await freeDualPort() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bench-stunnerd-'));
  const admin = { loglevel: 'all:WARN', healthcheck_endpoint: '', ...opts.admin };
  const config = join(dir, 'stunnerd.yaml');
  const listener = (name: string, protocol: string, p: number, extra = '') =>
    `  - {name: ${name}, protocol: ${protocol}, address: 127.0.0.1, port: ${p}, routes: [loopback]${extra}}`;
  const listeners = [listener('udp', 'TURN-UDP', port)];
  if (tlsPort !== undefined) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const b64 = (f: string) => readFileSync(join(dir, f)).toString('base64');
    const tls = `, cert: ${b64('cert.pem')}, key: ${b64('key.pem')}`;
    listeners.push(listener('tcp', 'TURN-TCP', port), listener('tls', 'TURN-TLS', tlsPort, tls),
      listener('dtls', 'TURN-DTLS', tlsPort, tls));
  }
  writeFileSync(config, `version: v1
admin: ${JSON.stringify({ name: 'bench', ...admin })}
auth: {type: static, realm: example.org, credentials: {username: test, password: test}}
listeners:
${listeners.join('\n')}
clusters: [{name: loopback, type: STATIC, endpoints: [127.0.0.0/8]}]
`);
  const args = ['src/cmd/stunnerd.ts', '-c', config, '-l', 'all:WARN,stunnerd:INFO', ...workerArgs(opts.workers)];
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  await waitForOutput(child, 'stunnerd running');
  return { pid: child.pid!, port, tlsPort, command: `node ${args.join(' ')}`, stop: stopper(child) };
}

/** coturn via bench/tools/coturn-start.sh (user test:test, realm example.org): UDP and TCP on `port`, TLS and
 *  DTLS on `tlsPort`. With `allTransports` both ports are free for TCP too, and the TCP side has had a moment. */
export async function startCoturn(opts: { readonly allTransports?: boolean } = {}): Promise<Server> {
  const free = opts.allTransports ? freeDualPort : freeUdpPort;
  const port = await free();
  const tlsPort = await free();
  const dir = mkdtempSync(join(tmpdir(), 'bench-coturn-'));
  const pid = Number(execFileSync('bash', [join(ROOT, 'bench/tools/coturn-start.sh'), dir],
    { env: { ...process.env, PORT: String(port), TLS_PORT: String(tlsPort) } }).toString().trim().split('\n').at(-1));
  // Its TLS/DTLS listener starts with the UDP one; give the TCP side a moment too.
  if (opts.allTransports) await new Promise((r) => setTimeout(r, 500));
  return {
    pid, port, tlsPort, command: `turnserver -c ${dir}/turnserver.conf (bench/tools/coturn-start.sh; relay threads: one per CPU)`,
    stop: async () => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** The bare Node relay (bench/baseline/node-udp-relay.mjs), on `threads` SO_REUSEPORT worker threads when more than 1. */
export async function startBareRelay(peerPort: number, threads = 1): Promise<Server> {
  const port = await freeUdpPort();
  const child = spawn(process.execPath, ['bench/baseline/node-udp-relay.mjs', String(port), String(peerPort), String(threads)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(child, 'ready');
  return { pid: child.pid!, port, stop: stopper(child) };
}

/** coturn's UDP echo peer. */
export async function startPeer(): Promise<Server> {
  const port = await freeUdpPort();
  const child = spawn('turnutils_peer', ['-L', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  if (child.exitCode !== null) throw new Error('turnutils_peer exited (is coturn installed?)');
  return { pid: child.pid!, port, stop: stopper(child) };
}
