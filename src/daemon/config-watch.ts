// Watches a config file for changes in the ways Kubernetes and editors make them: written in place,
// replaced by rename (atomic save), or swapped behind a symlink (a mounted ConfigMap's ..data link).
// The directory is watched, not the inode, and a change is only reported when the content differs.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';

export interface ConfigWatchOptions {
  /** Coalesces bursts of events (a rename is several); ms. */
  readonly debounceMs?: number;
  /** A poll as a safety net where fs events are not delivered (some network file systems); ms, 0 = off. */
  readonly pollMs?: number;
  /** How long the file must stay missing before onMissing is called; ms. */
  readonly missingMs?: number;
  /** The file has been missing (deleted, unreadable) for missingMs: called once until it is back. */
  readonly onMissing?: () => void;
  /** The file is back after onMissing; `changed` = its content differs from the running config's (onChange follows). */
  readonly onBack?: (changed: boolean) => void;
}

export class ConfigWatch {
  readonly #path: string;
  readonly #onChange: () => void;
  readonly #debounceMs: number;
  readonly #missingMs: number;
  readonly #opts: ConfigWatchOptions;
  /** When the file was first seen missing (NaN: it is there), and whether onMissing was called since. */
  #missingSince = NaN;
  #missingReported = false;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #digest: string | undefined;

  constructor(path: string, onChange: () => void, opts: ConfigWatchOptions = {}) {
    this.#path = path;
    this.#onChange = onChange;
    this.#debounceMs = opts.debounceMs ?? 200;
    this.#missingMs = opts.missingMs ?? 1000;
    this.#opts = opts;
    this.#watcher = watch(dirname(path), { persistent: false }, () => this.#schedule());
    this.#watcher.on('error', () => this.#schedule());
    const pollMs = opts.pollMs ?? 5000;
    if (pollMs > 0) {
      this.#poll = setInterval(() => this.#schedule(), pollMs);
      this.#poll.unref();
    }
  }

  /**
   * Starts from the content the running config was loaded from (its `fileDigest`, taken before the load), so
   * only real changes are reported, and checks the file at once: a change made while the daemon was starting,
   * after it read the file but before this watch existed, is reported now instead of never.
   */
  prime(loadedDigest: string | undefined): void {
    this.#digest = loadedDigest;
    this.#schedule();
  }

  #schedule(delayMs = this.#debounceMs): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#check(), delayMs);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    const digest = await fileDigest(this.#path);
    if (digest === undefined) {
      // Missing for a moment (an editor that deletes, then writes) is not a change; missing for missingMs is
      // reported, once: the running config stays.
      const now = performance.now();
      if (Number.isNaN(this.#missingSince)) this.#missingSince = now;
      if (now - this.#missingSince < this.#missingMs) return this.#schedule(this.#missingMs - (now - this.#missingSince));
      if (!this.#missingReported) {
        this.#missingReported = true;
        this.#opts.onMissing?.();
      }
      return;
    }
    this.#missingSince = NaN;
    const changed = digest !== this.#digest;
    if (this.#missingReported) {
      this.#missingReported = false;
      this.#opts.onBack?.(changed);
    }
    if (!changed) return;
    this.#digest = digest;
    this.#onChange();
  }

  close(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

/** The sha256 of a file's content; undefined when it cannot be read (mid-swap, removed). */
export async function fileDigest(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(path)).digest('hex');
  } catch {
    return undefined;
  }
}
