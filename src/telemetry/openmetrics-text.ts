// OpenMetrics 1.0 text (https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md), served
// when the scraper asks for it (openmetrics-accept.ts): the same samples as text 0.0.4, plus what only OpenMetrics
// carries: an exemplar per histogram bucket (the sampled span of the bucket's latest observation), units, and the
// `# EOF` that tells a complete exposition from a cut-off one.
import type { ExemplarSource } from '../stats/histogram.ts';
import { braces, formatValue, type ExpositionFormat, type FamilyType } from './exposition-writer.ts';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** The Prometheus word of an OpenTelemetry unit (as the OTel Prometheus compatibility spec translates it). */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds', min: 'minutes', h: 'hours', d: 'days',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes',
};

export const OPENMETRICS_TEXT: ExpositionFormat = {
  contentType: OPENMETRICS_CONTENT_TYPE,
  header: openMetricsHeader,
  histogram: openMetricsHistogram,
  end: '# EOF\n',
};

/**
 * "# TYPE, # UNIT, # HELP" of a family (the spec's order). The family name is what its samples carry less the
 * type's suffix: `_total` of a counter, `_info` of an info. UNIT only where the name ends in the unit's word, which
 * the spec requires of a unit; otherwise (`{packet}`, no unit) none.
 *
 * Family names must be unique, and the contract has gauge `x_connections` next to counter `x_connections_total`,
 * whose family would be `x_connections` too: such a counter (its family name taken by an earlier family) is written
 * as type unknown under its full name. Valid OpenMetrics, same samples, and Prometheus keeps the gauge's type
 * (two families `x_connections` would leave it the counter's: it keys metadata by family name).
 */
export function openMetricsHeader(name: string, type: FamilyType, help: string, unit = '',
  families: Set<string> = new Set()): string {
  let family = name;
  let omType: FamilyType | 'unknown' = type;
  if (type === 'counter' && name.endsWith('_total')) family = name.slice(0, -'_total'.length);
  else if (type === 'info' && name.endsWith('_info')) family = name.slice(0, -'_info'.length);
  if (family !== name && families.has(family)) {
    family = name;
    omType = 'unknown';
  }
  families.add(family);
  let text = `# TYPE ${family} ${omType}\n`;
  const word = UNIT_WORDS[unit];
  if (word !== undefined && type !== 'info' && family.endsWith(`_${word}`)) text += `# UNIT ${family} ${word}\n`;
  return `${text}# HELP ${family} ${escapeHelp(help || family)}\n`;
}

/**
 * `_bucket` lines with canonical `le` values ("1.0", not "1": the spec's rule for `le`) and each bucket's exemplar
 * as ` # {trace_id="…",span_id="…"} value timestamp`, then `_sum` and `_count`.
 */
export function openMetricsHistogram(name: string, inner: string, boundaries: readonly number[],
  counts: ArrayLike<number>, sum: number, count: number, exemplars?: ExemplarSource): string {
  const sep = inner === '' ? '' : ',';
  let text = '';
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    cumulative += counts[i];
    const le = i < boundaries.length ? canonicalNumber(boundaries[i]) : '+Inf';
    text += `${name}_bucket{${inner}${sep}le="${le}"} ${cumulative}`;
    const e = exemplars?.exemplar(i);
    if (e !== undefined) {
      text += ` # {trace_id="${e.traceId}",span_id="${e.spanId}"} ${formatValue(e.value)} ${(e.timeMs / 1000).toFixed(3)}`;
    }
    text += '\n';
  }
  text += `${name}_sum${braces(inner)} ${formatValue(sum)}\n`;
  text += `${name}_count${braces(inner)} ${count}\n`;
  return text;
}

/**
 * The spec's canonical rendering of an `le` value: Go's shortest `%g`, with ".0" added when it has neither a point
 * nor an exponent (0.001, 1.0, 43200.0, 1e+06, 1e-05, +Inf).
 */
export function canonicalNumber(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  // toExponential() gives the shortest digits that read back as v, as Go's shortest formatting does.
  const [mantissa, exponent] = v.toExponential().split('e');
  const exp = Number(exponent);
  // %g: exponent form below 1e-4 and from 1e+6 on (the precision of shortest %g counts as 6), at least two digits.
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const fixed = String(v);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

/** HELP escapes backslash, newline and double quote in OpenMetrics (0.0.4: not the quote). */
function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
