// Accumulates an exposition (Prometheus text 0.0.4, or OpenMetrics text: openmetrics-text.ts) and hands it on in
// chunks, yielding the event loop between time slices, so a large scrape is many short turns instead of one long
// one. Also the text primitives (names, label sets, values) shared by the writers of SDK metrics and of the
// registry's families, and what differs between the two formats (`ExpositionFormat`).
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { ExemplarSource } from '../stats/histogram.ts';
import { TimeSlice } from './time-slice.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A family's type; `info` (target_info) is a gauge in text 0.0.4, which has no info type. */
export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'info';

/** What differs between the text formats: metadata lines, histogram lines, the end. */
export interface ExpositionFormat {
  readonly contentType: string;
  /**
   * The metadata lines of a family. `name` is the name its samples carry (a counter's ends in `_total`, an info's in
   * `_info`); `unit` its OpenTelemetry unit; `families` the family names of the exposition so far (the format adds
   * this one's).
   */
  header(name: string, type: FamilyType, help: string, unit: string | undefined, families: Set<string>): string;
  /** The `_bucket` (cumulative), `_sum` and `_count` lines of one series; `exemplars` by bucket index, if any. */
  histogram(name: string, inner: string, boundaries: readonly number[], counts: ArrayLike<number>, sum: number,
    count: number, exemplars?: ExemplarSource): string;
  /** What ends an exposition. */
  readonly end: string;
}

/** Prometheus text format 0.0.4: what the endpoint serves unless the scraper asks for OpenMetrics. */
export const PROMETHEUS_TEXT: ExpositionFormat = {
  contentType: PROMETHEUS_CONTENT_TYPE,
  header: (name, type, help) => familyHeader(name, type === 'info' ? 'gauge' : type, help),
  histogram: (name, inner, boundaries, counts, sum, count) => histogramLines(name, inner, boundaries, counts, sum, count),
  end: '',
};

/** Receives finished chunks; may return a promise to apply backpressure. */
export type ChunkWriter = (chunk: string) => void | Promise<void>;

export interface WriterOptions {
  /** Prometheus text 0.0.4 by default. */
  readonly format?: ExpositionFormat;
  readonly sliceMs?: number;
  /** Chunk size in UTF-16 units before `write` is called. */
  readonly chunkSize?: number;
}

const DEFAULT_CHUNK = 64 * 1024;
/** Sample lines between checks of the chunk size and the time slice (an await per line would cost a microtask). */
const LINES_PER_CHECK = 128;

export class ExpositionWriter {
  readonly format: ExpositionFormat;
  readonly #write: ChunkWriter;
  readonly #slice: TimeSlice;
  readonly #chunkSize: number;
  readonly #families = new Set<string>();
  #buf = '';
  #lines = 0;

  constructor(write: ChunkWriter, opts: WriterOptions = {}) {
    this.format = opts.format ?? PROMETHEUS_TEXT;
    this.#write = write;
    this.#slice = new TimeSlice(opts.sliceMs);
    this.#chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  }

  /** Appends `text` holding `lines` sample lines. */
  append(text: string, lines = 1): void {
    this.#buf += text;
    this.#lines += lines;
  }

  /** Appends the metadata lines of a family (see ExpositionFormat.header). */
  header(name: string, type: FamilyType, help: string, unit?: string): void {
    this.append(this.format.header(name, type, help, unit, this.#families), 0);
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
    this.#buf += this.format.end;
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
