// A headless Chromium (Debian package `chromium`), driven over the Chrome DevTools Protocol with Node's own
// WebSocket: its WebRTC stack is the TURN client real users run. Missing Chromium fails the test: CI installs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './uclient.ts';

interface CdpReply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export interface Page {
  /** Evaluates `expression` (which may return a promise) in the page, and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  close(): Promise<void>;
}

export class Chromium {
  readonly #process: ChildProcess;
  readonly #socket: WebSocket;
  readonly #profile: string;
  readonly #pending = new Map<number, (reply: CdpReply) => void>();
  #nextId = 0;

  private constructor(child: ChildProcess, socket: WebSocket, profile: string) {
    this.#process = child;
    this.#socket = socket;
    this.#profile = profile;
    socket.addEventListener('message', (e: MessageEvent) => {
      const reply = JSON.parse(String(e.data)) as CdpReply;
      if (reply.id === undefined) return;
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
  }

  /**
   * Starts Chromium headless on a fresh profile. The flags keep it from reaching for the network on its own
   * (this machine has none beyond loopback).
   */
  static async launch(extraArgs: readonly string[] = []): Promise<Chromium> {
    const bin = requireTool('chromium');
    const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
    const child = spawn(bin, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions',
      '--disable-dev-shm-usage',
      `--user-data-dir=${profile}`, '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
      ...extraArgs, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const portFile = join(profile, 'DevToolsActivePort');
    for (let i = 0; i < 600 && !existsSync(portFile); i++) { // up to 30 s: a first start builds caches
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!existsSync(portFile)) {
      child.kill('SIGKILL');
      throw new Error(`chromium did not start: ${stderr.slice(-2000)}`);
    }
    const [port, path] = readFileSync(portFile, 'utf8').trim().split('\n');
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    await once(socket as unknown as EventTarget, 'open');
    return new Chromium(child, socket, profile);
  }

  /** Evaluates `expression` (which may return a promise) in a new blank page, and returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const page = await this.newPage();
    try {
      return await page.evaluate<T>(expression);
    } finally {
      await page.close();
    }
  }

  /** A blank page that keeps its state (calls, timers) between evaluations. */
  async newPage(): Promise<Page> {
    const target = await this.#call('Target.createTarget', { url: 'about:blank' });
    const session = await this.#call('Target.attachToTarget', { targetId: target.targetId, flatten: true });
    return {
      evaluate: async <T>(expression: string): Promise<T> => {
        const r = await this.#call('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true },
          session.sessionId as string);
        const details = r.exceptionDetails as { exception?: { description?: string } } | undefined;
        if (details !== undefined) throw new Error(`page script failed: ${details.exception?.description ?? JSON.stringify(details)}`);
        return (r.result as { value: T }).value;
      },
      close: async () => {
        await this.#call('Target.closeTarget', { targetId: target.targetId });
      },
    };
  }

  async close(): Promise<void> {
    this.#socket.close();
    if (this.#process.exitCode === null) {
      this.#process.kill('SIGTERM');
      const killer = setTimeout(() => this.#process.kill('SIGKILL'), 3000);
      await once(this.#process, 'exit');
      clearTimeout(killer);
    }
    rmSync(this.#profile, { recursive: true, force: true });
  }

  #call(method: string, params: Record<string, unknown>, sessionId?: string): Promise<Record<string, unknown>> {
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (reply) => {
        if (reply.error !== undefined) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply.result ?? {});
      });
      this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }
}
