// Child processes of the real commands, as a user runs them; stopped by PID at the end of a test.
import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Proc {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when the output contains `text` (rejects after `timeoutMs`). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = once(child, 'exit');
  return {
    child,
    output: () => out,
    waitFor(text, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (typeof text === 'string' ? out.includes(text) : text.test(out)) {
            cleanup();
            resolve();
          }
        };
        const onExit = () => {
          cleanup();
          reject(new Error(`process exited before printing ${text}:\n${out}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${text}:\n${out}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Runs the stunnerd command with Node (the sources directly). */
export function stunnerd(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  return run(process.execPath, ['src/cmd/stunnerd.ts', ...args], env);
}

/**
 * Ports handed out by this process. The kernel may give a just-released port to the next bind(0), so two
 * calls in a row (say, a health and a metrics port) could otherwise return the same number.
 */
const handedOut = new Set<string>();

async function freePort(kind: 'tcp' | 'udp', host: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    let port: number;
    if (kind === 'tcp') {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, host, r));
      port = (s.address() as { port: number }).port;
      await new Promise((r) => s.close(r));
    } else {
      const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      await new Promise<void>((r) => s.bind(0, host, r));
      port = s.address().port;
      await new Promise<void>((r) => s.close(r));
    }
    const key = `${kind}:${port}`;
    if (!handedOut.has(key) || attempt > 20) {
      handedOut.add(key);
      return port;
    }
  }
}

/** A TCP port free on loopback now, not handed out before by this process (for configs with fixed ports). */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return freePort('tcp', host);
}

/** A UDP port free on loopback now, not handed out before by this process. */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return freePort('udp', host);
}

/** The kernel's range of ephemeral ports, [low, high] (net.ipv4.ip_local_port_range). */
export function ephemeralPortRange(): [number, number] {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  return [low, high];
}

/**
 * A UDP port free on loopback now that the kernel never hands to an ephemeral bind (below or above its
 * ip_local_port_range): a relay port that gets peer links by default (src/server/udp-relay.ts, peerLinksFor).
 */
export async function nonEphemeralUdpPort(host = '127.0.0.1'): Promise<number> {
  const [low, high] = ephemeralPortRange();
  const spans = [[Math.max(1024, low - 4000), low - 1], [high + 1, Math.min(65535, high + 4000)]].filter(([a, b]) => b >= a);
  for (let attempt = 0; attempt < 200; attempt++) {
    const [a, b] = spans[attempt % spans.length];
    const port = a + Math.floor(Math.random() * (b - a + 1));
    const key = `udp:${port}`;
    if (handedOut.has(key)) continue;
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.bind(port, host, () => r(true));
    });
    await new Promise<void>((r) => s.close(() => r()));
    if (ok) {
      handedOut.add(key);
      return port;
    }
  }
  throw new Error('no UDP port free outside the ephemeral range');
}

/** Polls `url` until it answers `status` (e.g. a daemon's /ready). */
export async function waitHttp(url: string, status = 200, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status === status) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}
