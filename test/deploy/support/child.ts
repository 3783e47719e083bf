// Child processes of a test: output kept for the failure message, stopped by their own PID, never outliving the test.
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** stdout and stderr, interleaved, last 64 KiB. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

const KEEP = 64 * 1024;

export function startChild(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > KEEP) out = out.slice(-KEEP);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    proc.once('error', (err) => {
      out += `\n[spawn error] ${err.message}`;
      resolve('spawn-error');
    });
  });
  let done = false;
  void exited.then(() => { done = true; });
  return {
    name,
    process: proc,
    output: () => out,
    exited,
    async stop(graceMs = 5000) {
      if (!done && proc.pid !== undefined) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => { if (!done) proc.kill('SIGKILL'); }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/** Polls `check` every `everyMs` until it returns a value, the child exits, or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, opts: {
  timeoutMs: number; everyMs?: number; child?: Child;
}): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let exitedWith: number | string | undefined;
  void opts.child?.exited.then((c) => { exitedWith = c; });
  let lastError = '';
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) {
      throw new Error(`${opts.child?.name} exited (${exitedWith}) while waiting for ${what}:\n${opts.child?.output()}`);
    }
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 200));
  }
  throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}` +
    (opts.child ? `\n${opts.child.name} output:\n${opts.child.output()}` : ''));
}
