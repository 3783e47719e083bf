// Series identities that do not depend on label order, so a scrape, an OTLP push and a backend's storage can be
// compared as maps `name{sorted labels} -> value`.

export function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}{${pairs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

/** `name{a="x",b="y"}` (as in an exposition) -> name and labels. */
export function parseSeries(series: string): { name: string; labels: Record<string, string> } {
  const brace = series.indexOf('{');
  if (brace < 0) return { name: series, labels: {} };
  const labels: Record<string, string> = {};
  for (const m of series.slice(brace).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2];
  return { name: series.slice(0, brace), labels };
}

/** Re-keys `series -> value` samples canonically, keeping those whose name starts with `prefix`. */
export function canonical(samples: ReadonlyMap<string, number>, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [series, value] of samples) {
    const { name, labels } = parseSeries(series);
    if (name.startsWith(prefix)) out.set(seriesKey(name, labels), value);
  }
  return out;
}

export function sorted(m: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
