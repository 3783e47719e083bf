// Cumulative-to-delta conversion for a push reader whose exporter prefers delta temporality
// (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta|lowmemory). One tracker per reader: each reader has
// its own previous collection. Series not seen in a collection are forgotten, so memory follows the registry.
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { Histogram as HistogramValue } from '@opentelemetry/sdk-metrics';

interface Previous {
  value: number | HistogramValue;
  time: HrTime;
  generation: number;
}

export class DeltaTracker {
  readonly #previous = new Map<string, Previous>();
  #generation = 0;

  /** Starts a collection; `end()` then drops the series this collection did not report. */
  begin(): void {
    this.#generation++;
  }

  end(): void {
    for (const [key, p] of this.#previous) if (p.generation !== this.#generation) this.#previous.delete(key);
  }

  /**
   * The increase since the previous collection and the start of that interval. A series seen for the first time
   * reports its whole cumulative value since `start`; a value below the previous one is a reset (a listener that
   * was removed and re-added under the same name) and also reports the whole value.
   */
  sum(name: string, attributes: Attributes, value: number, start: HrTime, now: HrTime): { value: number; start: HrTime } {
    const key = seriesKey(name, attributes);
    const p = this.#previous.get(key);
    this.#previous.set(key, { value, time: now, generation: this.#generation });
    if (p === undefined || typeof p.value !== 'number' || value < p.value) return { value, start };
    return { value: value - p.value, start: p.time };
  }

  histogram(name: string, attributes: Attributes, value: HistogramValue, start: HrTime, now: HrTime):
    { value: HistogramValue; start: HrTime } {
    const key = seriesKey(name, attributes);
    const p = this.#previous.get(key);
    this.#previous.set(key, { value, time: now, generation: this.#generation });
    if (p === undefined || typeof p.value === 'number' || value.count < p.value.count) return { value, start };
    const prev = p.value;
    return {
      value: {
        buckets: { boundaries: value.buckets.boundaries, counts: value.buckets.counts.map((c, i) => c - prev.buckets.counts[i]) },
        count: value.count - prev.count,
        sum: (value.sum ?? 0) - (prev.sum ?? 0),
        // Lifetime extremes say nothing about one interval.
        min: undefined,
        max: undefined,
      },
      start: p.time,
    };
  }
}

function seriesKey(name: string, attributes: Attributes): string {
  let key = name;
  for (const v of Object.values(attributes)) key += `\u0000${String(v)}`;
  return key;
}
