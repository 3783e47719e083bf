// Reading a Prometheus text exposition in tests: the gateway families' lines, single samples, series keys.
import { scrapeSamples } from '../../telemetry/helpers/otlp-receiver.ts';

/** The `# TYPE` and sample lines of the families whose names start with `prefix` (HELP text is not contract). */
export function familyLines(text: string, prefix = 'stunner_'): string[] {
  return text.split('\n').filter((line) =>
    line.startsWith(prefix) || line.startsWith(`# TYPE ${prefix}`));
}

/** `series -> value` for every sample line (`name{labels} value`). */
export const samples = scrapeSamples;

/** The value of one series; throws when it is absent, so a missing series fails loudly. */
export function sample(text: string, series: string): number {
  const v = samples(text).get(series);
  if (v === undefined) throw new Error(`series ${series} not in the exposition`);
  return v;
}

/** Label values of `label` over the samples of family `name` (e.g. every `name` of stunner_listener_*). */
export function labelValues(text: string, family: string, label: string): Set<string> {
  const out = new Set<string>();
  const re = new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`);
  for (const series of samples(text).keys()) {
    if (!series.startsWith(`${family}{`) && series !== family) continue;
    const m = re.exec(series);
    if (m !== null) out.add(m[1]);
  }
  return out;
}
