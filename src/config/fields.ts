// Typed reads of fields from an untrusted, parsed config document. Each read reports a problem at
// the field's JSON path and falls back to the default, so one pass finds every problem.

import { childPath, type ProblemSink } from './errors.ts';

export type RawObject = Record<string, unknown>;

export function isObject(v: unknown): v is RawObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** How a found value is quoted in messages: `got 70000`, `got "udp"`, `got an array`. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v === 'object' ? 'map' : typeof v}`;
}

/** Upstream adds fields over time: unknown ones are accepted but named in a warning. */
export function warnUnknownFields(obj: RawObject, known: readonly string[], path: string, problems: ProblemSink): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) problems.warn(childPath(path, key), 'unknown field, ignored');
  }
}

/** A nested map; absent or null reads as an empty map. */
export function readObject(obj: RawObject, key: string, path: string, problems: ProblemSink): RawObject {
  const v = obj[key];
  if (v === undefined || v === null) return {};
  if (isObject(v)) return v;
  problems.error(childPath(path, key), `must be a map, got ${describeValue(v)}`);
  return {};
}

/** A string; absent, null or "" reads as `fallback` (as upstream's omitempty fields). */
export function readString(obj: RawObject, key: string, path: string, problems: ProblemSink, fallback = ''): string {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v === 'string') return v;
  problems.error(childPath(path, key), `must be a string, got ${describeValue(v)}`);
  return fallback;
}

export interface IntegerRange {
  readonly min: number;
  readonly max?: number;
}

/**
 * An integer in `range`; absent or null reads as `fallback`, and so does 0 when 0 is out of range
 * (upstream's omitempty ports). A decimal string is accepted too, because `${PORT}` expands to one.
 */
export function readInteger(obj: RawObject, key: string, path: string, problems: ProblemSink, fallback: number,
  range: IntegerRange): number {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v;
  const at = childPath(path, key);
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    problems.error(at, `must be an integer, got ${describeValue(v)}`);
    return fallback;
  }
  if (n === 0 && range.min > 0) return fallback;
  if (n < range.min || (range.max !== undefined && n > range.max)) {
    const want = range.max === undefined ? `>= ${range.min}` : `${range.min}..${range.max}`;
    problems.error(at, `must be ${want}, got ${n}`);
    return fallback;
  }
  return n;
}

/** A list of strings; absent or null reads as []. */
export function readStringList(obj: RawObject, key: string, path: string, problems: ProblemSink): string[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  const at = childPath(path, key);
  if (!Array.isArray(v)) {
    problems.error(at, `must be a list of strings, got ${describeValue(v)}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((item, i) => {
    if (typeof item === 'string') out.push(item);
    else problems.error(childPath(at, i), `must be a string, got ${describeValue(item)}`);
  });
  return out;
}

/** A list of maps, each with its path; absent or null reads as []. */
export function readObjectList(obj: RawObject, key: string, path: string, problems: ProblemSink):
  Array<{ item: RawObject; path: string }> {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  const at = childPath(path, key);
  if (!Array.isArray(v)) {
    problems.error(at, `must be a list, got ${describeValue(v)}`);
    return [];
  }
  const out: Array<{ item: RawObject; path: string }> = [];
  v.forEach((item, i) => {
    if (isObject(item)) out.push({ item, path: childPath(at, i) });
    else problems.error(childPath(at, i), `must be a map, got ${describeValue(item)}`);
  });
  return out;
}
