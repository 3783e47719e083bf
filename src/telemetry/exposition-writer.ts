// Accumulates Prometheus text (format 0.0.4) and hands it on in chunks, yielding the event loop between time
// slices, so a large scrape is many short turns instead of one long one. Also the text primitives (names, label
// sets, values) shared by the writers of SDK metrics and of the registry's families.
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { TimeSlice } from './time-slice.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Receives finished chunks; may return a promise to apply backpressure. */
export type ChunkWriter = (chunk: string) => void | Promise<void>;

export interface WriterOptions {
  readonly sliceMs?: number;
  /** Chunk size in UTF-16 units before `write` is called. */
  readonly chunkSize?: number;
}

const DEFAULT_CHUNK = 64 * 1024;
/** Sample lines between checks of the chunk size and the time slice (an await per line would cost a microtask). */
const LINES_PER_CHECK = 128;

export class ExpositionWriter {
  readonly #write: ChunkWriter;
  readonly #slice: TimeSlice;
  readonly #chunkSize: number;
  #buf = '';
  #lines = 0;

  constructor(write: ChunkWriter, opts: WriterOptions = {}) {
    this.#write = write;
    this.#slice = new TimeSlice(opts.sliceMs);
    this.#chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  }

  /** Appends `text` holding `lines` sample lines. */
  append(text: string, lines = 1): void {
    this.#buf += text;
    this.#lines += lines;
  }

  /** True when the caller should `await pause()`. */
  get due(): boolean {
    return this.#lines >= LINES_PER_CHECK;
  }

  /** Passes on a full chunk and yields the event loop if the time slice is used up. */
  async pause(): Promise<void> {
    this.#lines = 0;
    if (this.#buf.length >= this.#chunkSize) {
      const chunk = this.#buf;
      this.#buf = '';
      // A drain wait is not a turn of the event loop: on loopback, 'drain' often comes via process.nextTick.
      await this.#write(chunk);
    }
    if (this.#slice.due) await this.#slice.yield();
  }

  async end(): Promise<void> {
    if (this.#buf === '') return;
    const chunk = this.#buf;
    this.#buf = '';
    await this.#write(chunk);
  }
}

export function familyHeader(name: string, type: string, help: string): string {
  return `# HELP ${name} ${escapeHelp(help || name)}\n# TYPE ${name} ${type}\n`;
}

/** Inner label text (`a="x",b="y"`, no braces) per attributes object; producers reuse their objects. */
const labelCache = new WeakMap<Attributes, string>();

export function labelText(attributes: Attributes): string {
  let text = labelCache.get(attributes);
  if (text === undefined) {
    text = '';
    for (const key in attributes) {
      const v = attributes[key];
      if (v === undefined) continue;
      text += `${text === '' ? '' : ','}${sanitizeName(key)}="${escapeLabelValue(v)}"`;
    }
    labelCache.set(attributes, text);
  }
  return text;
}

export function braces(inner: string): string {
  return inner === '' ? '' : `{${inner}}`;
}

/** Prometheus metric and label names: `[a-zA-Z_][a-zA-Z0-9_]*` (OTel names may contain `.`, `-`, `/`). */
export function sanitizeName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** The `_bucket` (cumulative), `_sum` and `_count` lines of one histogram series. */
export function histogramLines(name: string, inner: string, boundaries: readonly number[], counts: ArrayLike<number>,
  sum: number, count: number): string {
  const sep = inner === '' ? '' : ',';
  let text = '';
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    cumulative += counts[i];
    const le = i < boundaries.length ? formatValue(boundaries[i]) : '+Inf';
    text += `${name}_bucket{${inner}${sep}le="${le}"} ${cumulative}\n`;
  }
  text += `${name}_sum${braces(inner)} ${formatValue(sum)}\n`;
  text += `${name}_count${braces(inner)} ${count}\n`;
  return text;
}

function escapeLabelValue(v: AttributeValue): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
