// Which text format a scrape gets, from its Accept header (RFC 9110 §12.5.1). OpenMetrics only when the scraper
// names it (Prometheus does by default: `application/openmetrics-text;version=1.0.0;q=0.5,...,
// text/plain;version=0.0.4;q=0.3,*/*;q=0.2`) and likes it at least as much as text 0.0.4; anything else, a bare
// `*/*` or no Accept at all (curl, older scrapers) gets text 0.0.4 as before.
import { PROMETHEUS_TEXT, type ExpositionFormat } from './exposition-writer.ts';
import { OPENMETRICS_TEXT } from './openmetrics-text.ts';

interface MediaRange {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
}

export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept === '') return PROMETHEUS_TEXT;
  const ranges = parseAccept(accept);
  const openMetrics = quality(ranges, (r) => {
    if (r.type !== 'application/openmetrics-text') return 0;
    const version = r.params.get('version');
    return version === undefined || version === '1.0.0' ? 1 : 0;
  });
  // Text 0.0.4 matches text/plain (any version: Prometheus 3's text/plain version 1.0.0 reads it too), then
  // text/*, then */*; the most specific range that matches decides (RFC 9110: "text/plain;q=0, */*" refuses it).
  const text = quality(ranges, (r) => (r.type === 'text/plain' ? 3 : r.type === 'text/*' ? 2 : r.type === '*/*' ? 1 : 0));
  return openMetrics > 0 && openMetrics >= text ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
}

/** The q of the most specific range that matches (`specificity` 0 = no match), 0 when none does. */
function quality(ranges: readonly MediaRange[], specificity: (r: MediaRange) => number): number {
  let best = 0;
  let q = 0;
  for (const r of ranges) {
    const s = specificity(r);
    if (s > best || (s === best && s > 0 && r.q > q)) {
      best = s;
      q = r.q;
    }
  }
  return q;
}

/** `type/subtype;param=value;q=0.5, ...` -> media ranges (type and parameter names lower-cased). */
export function parseAccept(accept: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [type, ...rest] = part.split(';');
    const t = type.trim().toLowerCase();
    if (t === '') continue;
    const params = new Map<string, string>();
    let q = 1;
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const key = p.slice(0, eq).trim().toLowerCase();
      const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (key === 'q') {
        const n = Number(value);
        q = value !== '' && n >= 0 && n <= 1 ? n : 1;
      } else {
        params.set(key, value);
      }
    }
    out.push({ type: t, params, q });
  }
  return out;
}
