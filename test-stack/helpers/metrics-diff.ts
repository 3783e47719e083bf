// Two Prometheus text expositions of the same gateway family set compared family by family: which families each
// side has, their # TYPE, the label names and values of their series, and which families exist before any traffic.
// Used by upstream-compare.test.ts to put upstream stunnerd's /metrics next to ours.

/** One family of an exposition: its type and its samples (histogram buckets, sums and counts included). */
export interface Family {
  readonly type: string;
  /** Each sample's labels (name -> value) and value. */
  readonly samples: readonly { readonly labels: Readonly<Record<string, string>>; readonly value: number }[];
}

export type Exposition = ReadonlyMap<string, Family>;

const TYPE_LINE = /^# TYPE (\S+) (\S+)$/;
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The families whose names start with `prefix`, from Prometheus text 0.0.4 (a sample belongs to the last # TYPE). */
export function parseExposition(text: string, prefix = 'stunner_'): Exposition {
  const out = new Map<string, { type: string; samples: Family['samples'][number][] }>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const t = TYPE_LINE.exec(line);
    if (t !== null) {
      current = t[1].startsWith(prefix) ? t[1] : undefined;
      if (current !== undefined) out.set(current, { type: t[2], samples: [] });
      continue;
    }
    if (line.startsWith('#') || current === undefined) continue;
    const s = SAMPLE_LINE.exec(line);
    if (s === null || !s[1].startsWith(current)) continue;
    const labels: Record<string, string> = {};
    for (const m of (s[2] ?? '').matchAll(LABEL)) labels[m[1]] = m[2];
    out.get(current)!.samples.push({ labels, value: Number(s[3]) });
  }
  return out;
}

const isScope = (label: string) => label.startsWith('otel_scope_');

/** `{a="1",b="2"}` with the labels in name order, `le` and otel_scope_* left out. */
function seriesKey(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).filter((k) => k !== 'le' && !isScope(k)).sort();
  return `{${names.map((k) => `${k}="${labels[k]}"`).join(',')}}`;
}

/** `counter {direction, name}`: a family's type and label names (otel_scope_* and `le` left out). */
function shape(f: Family): string {
  const names = new Set<string>();
  for (const s of f.samples) for (const k of Object.keys(s.labels)) if (k !== 'le' && !isScope(k)) names.add(k);
  return `${f.type} {${[...names].sort().join(', ')}}`;
}

/** The otel_scope_* labels every sample of a side carries, as `k="v", ...`; `none`; or each variant, ` | `-joined. */
function scopeLabels(e: Exposition): string {
  const variants = new Set<string>();
  for (const f of e.values()) {
    for (const s of f.samples) {
      const scope = Object.keys(s.labels).filter(isScope).sort().map((k) => `${k}="${s.labels[k]}"`).join(', ');
      variants.add(scope === '' ? 'none' : scope);
    }
  }
  return [...variants].sort().join(' | ');
}

/** `a, b` when few are present; `all but x` when few of `all` are missing. */
function familyList(present: readonly string[], all: readonly string[]): string {
  const missing = all.filter((n) => !present.includes(n));
  if (missing.length === 0) return `all ${all.length}`;
  if (missing.length < present.length) return `all but ${missing.join(', ')}`;
  return present.length === 0 ? 'none' : present.join(', ');
}

/** One way the two expositions differ. */
export interface Difference {
  /** A family name, or `*` for something about every family. */
  readonly family: string;
  /** `otel_scope_* labels`, `families before any traffic`, `family` (only one side has it), `type`, `series`. */
  readonly what: string;
  readonly upstream: string;
  readonly ours: string;
}

/**
 * Every difference between upstream's and our expositions, scraped before any traffic and after the same load:
 * otel_scope_* labels; the families present before traffic; then per family (by name) one side only, the type, and
 * the set of series (label names and values; otel_scope_* and `le` left out) after the load.
 */
export function differences(upstream: { before: Exposition; after: Exposition }, ours: { before: Exposition; after: Exposition }): Difference[] {
  const out: Difference[] = [];
  const scopes = { upstream: scopeLabels(upstream.after), ours: scopeLabels(ours.after) };
  if (scopes.upstream !== scopes.ours) out.push({ family: '*', what: 'otel_scope_* labels', ...scopes });
  const names = (e: Exposition) => [...e.keys()].filter((n) => e.get(n)!.samples.length > 0).sort();
  const before = {
    upstream: familyList(names(upstream.before), names(upstream.after)),
    ours: familyList(names(ours.before), names(ours.after)),
  };
  if (before.upstream !== before.ours) out.push({ family: '*', what: 'families before any traffic', ...before });
  for (const family of [...new Set([...names(upstream.after), ...names(ours.after)])].sort()) {
    const u = upstream.after.get(family);
    const o = ours.after.get(family);
    if (u === undefined || o === undefined || u.samples.length === 0 || o.samples.length === 0) {
      const side = (f: Family | undefined) => (f === undefined || f.samples.length === 0 ? '—' : shape(f));
      out.push({ family, what: 'family', upstream: side(u), ours: side(o) });
      continue;
    }
    if (u.type !== o.type) out.push({ family, what: 'type', upstream: u.type, ours: o.type });
    const series = (f: Family) => [...new Set(f.samples.map((s) => seriesKey(s.labels)))].sort().join(' ');
    if (series(u) !== series(o)) out.push({ family, what: 'series', upstream: series(u), ours: series(o) });
  }
  return out;
}

/** The sum of the samples of `family` whose labels include `match` (other labels, e.g. `name`, summed over). */
export function total(e: Exposition, family: string, match: Readonly<Record<string, string>> = {}): number {
  const f = e.get(family);
  if (f === undefined) return 0;
  return f.samples.filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((acc, s) => acc + s.value, 0);
}
