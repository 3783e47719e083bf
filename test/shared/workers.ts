// Worker threads for the shared-state tests (dataplane-worker.ts): start them on one SharedDataplaneState,
// call them, start a race in several at once behind a barrier, and see them exit.
import { Worker } from 'node:worker_threads';
import type { SharedDataplaneState } from '../../src/shared/dataplane-state.ts';
import type { Call, WorkerInput } from './dataplane-worker.ts';

export class TestWorker {
  /** Its exit code, once it has exited (its 'exit' event: what worker-pool.ts reacts to). */
  readonly exited: Promise<number>;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 0;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.exited = new Promise((resolve) => worker.once('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`worker exited with code ${code}`));
      this.#pending.clear();
      resolve(code);
    }));
    worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      // A call sent with send() has nobody waiting for its answer.
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`worker: ${m.error}`));
      else p.resolve(m.result);
    });
    worker.on('error', (err) => {
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    });
  }

  static async start(input: WorkerInput): Promise<TestWorker> {
    const worker = new Worker(new URL('./dataplane-worker.ts', import.meta.url), { workerData: input });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    return new TestWorker(worker);
  }

  call<T>(call: Call): Promise<T> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, call });
    });
  }

  /** Posts a call whose answer never comes (the worker dies in it, or loops until terminated). */
  send(call: Call): void {
    this.#worker.postMessage({ id: this.#next++, call });
  }

  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }
}

/** `n` workers on `state` (ids 0..n-1), race() to run calls in all of them at once, and restart() one that died. */
export async function startWorkers(state: SharedDataplaneState, n: number): Promise<{
  workers: TestWorker[];
  race: <T>(calls: readonly Call[]) => Promise<T[]>;
  restart: (worker: number) => Promise<TestWorker>;
  stop: () => Promise<void>;
}> {
  const barrier = new SharedArrayBuffer(8);
  const sync = new Int32Array(barrier);
  const workers = await Promise.all(Array.from({ length: n }, (_, worker) => TestWorker.start({ state, barrier, worker })));
  const race = async <T>(calls: readonly Call[]): Promise<T[]> => {
    Atomics.store(sync, 0, 0);
    Atomics.store(sync, 1, 0);
    const results = calls.map((c, i) => workers[i].call<T>(c));
    let failed: unknown;
    for (const r of results) r.catch((err: unknown) => (failed = err));
    while (Atomics.load(sync, 0) < calls.length) {
      if (failed !== undefined) throw failed;
      await new Promise((r) => setTimeout(r, 1));
    }
    Atomics.store(sync, 1, 1);
    Atomics.notify(sync, 1);
    return Promise.all(results);
  };
  const restart = async (worker: number): Promise<TestWorker> => {
    await workers[worker].terminate();
    workers[worker] = await TestWorker.start({ state, barrier, worker });
    return workers[worker];
  };
  return { workers, race, restart, stop: async () => void await Promise.all(workers.map((w) => w.terminate())) };
}
