// Builds the gateway metrics from the StatsRegistry at collection time, as an sdk-metrics MetricProducer attached to
// each reader. Unlike observable instruments it keeps no per-series state: a listener or cluster removed by
// `registry.retain()` is absent from the very next collection, pull and push alike. (Observable instruments with
// cumulative temporality keep reporting removed series, and cap each instrument at 2,000 series by default.)
// Allocation-duration data points carry their buckets' exemplars (otlp-exemplars.ts sends them); with delta
// temporality only those recorded since the previous collection.
import type { Attributes, HrTime } from '@opentelemetry/api';
import { hrTime, millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType, InstrumentType,
  type AggregationTemporalitySelector, type CollectionResult, type DataPoint, type Histogram as HistogramValue,
  type MetricData, type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { StatsRegistry } from '../stats/registry.ts';
import type { Histogram } from '../stats/histogram.ts';
import { FAMILIES, type Family } from './families.ts';
import { listenerLabels } from './labels.ts';
import {
  CLUSTER_SERIES, GATEWAY_SERIES, LISTENER_SERIES, buildInfoLabels, type Emit, type SeriesTable,
} from './registry-series.ts';
import { DeltaTracker } from './delta.ts';
import { bucketExemplars, type ExemplarDataPoint } from './otlp-exemplars.ts';
import { TimeSlice, DEFAULT_SLICE_MS } from './time-slice.ts';

export const SCOPE_NAME = 'stunner';

export interface RegistryProducerOptions {
  readonly registry: StatsRegistry;
  /** Ignored by readers (they use the MeterProvider's), but part of the CollectionResult shape. */
  readonly resource: Resource;
  /** The gateway version: stunner_build_info{version}. */
  readonly version: string;
  /** The reader's exporter preference; counters are asked as OBSERVABLE_COUNTER, the histogram as HISTOGRAM. */
  readonly temporality?: AggregationTemporalitySelector;
  readonly sliceMs?: number;
}

type Point<T> = DataPoint<T>;

/** When each stats object was first collected: the start of its cumulative series. */
const firstSeen = new WeakMap<object, HrTime>();
const PROCESS_START = millisToHrTime(performance.timeOrigin);

export class RegistryMetricProducer implements MetricProducer {
  readonly #registry: StatsRegistry;
  readonly #resource: Resource;
  readonly #scope: { name: string; version: string };
  readonly #buildLabels: Attributes;
  readonly #counterTemporality: AggregationTemporality;
  readonly #histogramTemporality: AggregationTemporality;
  readonly #delta: DeltaTracker | undefined;
  readonly #sliceMs: number;
  /** Wall-clock time (the exemplars' clock) when the previous collection started; delta sends exemplars since. */
  #previousCollectionMs = -Infinity;

  constructor(opts: RegistryProducerOptions) {
    this.#registry = opts.registry;
    this.#resource = opts.resource;
    this.#scope = { name: SCOPE_NAME, version: opts.version };
    this.#buildLabels = buildInfoLabels(opts.version);
    const select = opts.temporality ?? (() => AggregationTemporality.CUMULATIVE);
    this.#counterTemporality = select(InstrumentType.OBSERVABLE_COUNTER);
    this.#histogramTemporality = select(InstrumentType.HISTOGRAM);
    const anyDelta = this.#counterTemporality === AggregationTemporality.DELTA
      || this.#histogramTemporality === AggregationTemporality.DELTA;
    this.#delta = anyDelta ? new DeltaTracker() : undefined;
    this.#sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
  }

  async collect(): Promise<CollectionResult> {
    const now = hrTime();
    const wallNow = Date.now();
    const slice = new TimeSlice(this.#sliceMs);
    this.#registry.refresh();
    // Snapshots, so every family lists the same listeners and clusters even if the registry changes mid-way.
    const listeners = [...this.#registry.listeners.values()];
    const clusters = [...this.#registry.clusters.values()];
    const metrics: MetricData[] = [];
    for (const t of LISTENER_SERIES) metrics.push(await this.#family(t, listeners, now, slice));
    const durations: ExemplarDataPoint[] = listeners.map((s) => {
      const h = s.allocationDuration;
      return { ...point(startOf(s, now), now, listenerLabels(s).name, histogramValue(h)),
        exemplars: bucketExemplars(h, h.counts.length) };
    });
    metrics.push(histogram(FAMILIES.allocationDuration, this.#histogramTemporality, durations));
    for (const t of CLUSTER_SERIES) metrics.push(await this.#family(t, clusters, now, slice));
    for (const t of GATEWAY_SERIES) metrics.push(await this.#family(t, [this.#registry.gateway], now, slice));
    metrics.push(gauge(FAMILIES.buildInfo, [point(PROCESS_START, now, this.#buildLabels, 1)]));
    if (this.#delta !== undefined) await this.#toDelta(this.#delta, metrics, now, slice);
    this.#previousCollectionMs = wallNow;
    return {
      resourceMetrics: { resource: this.#resource, scopeMetrics: [{ scope: this.#scope, metrics }] },
      errors: [],
    };
  }

  async #family<S extends object>(t: SeriesTable<S>, items: readonly S[], now: HrTime, slice: TimeSlice):
    Promise<MetricData> {
    const points: Point<number>[] = [];
    let start = now;
    const emit: Emit = (attributes, value) => points.push(point(start, now, attributes, value));
    for (let i = 0; i < items.length; i++) {
      start = startOf(items[i], now);
      t.each(items[i], emit);
      if ((i & 63) === 63 && slice.due) await slice.yield();
    }
    return t.family.kind === 'gauge' ? gauge(t.family, points) : sum(t.family, this.#counterTemporality, points);
  }

  async #toDelta(delta: DeltaTracker, metrics: MetricData[], now: HrTime, slice: TimeSlice): Promise<void> {
    delta.begin();
    for (const m of metrics) {
      if (m.aggregationTemporality !== AggregationTemporality.DELTA) continue;
      const name = m.descriptor.name;
      if (m.dataPointType === DataPointType.SUM) {
        const points = m.dataPoints;
        for (let i = 0; i < points.length; i++) {
          const p = points[i];
          const d = delta.sum(name, p.attributes, p.value, p.startTime, now);
          points[i] = point(d.start, now, p.attributes, d.value);
          if ((i & 255) === 255 && slice.due) await slice.yield();
        }
      } else if (m.dataPointType === DataPointType.HISTOGRAM) {
        const points: ExemplarDataPoint[] = m.dataPoints;
        for (let i = 0; i < points.length; i++) {
          const p = points[i];
          const d = delta.histogram(name, p.attributes, p.value, p.startTime, now);
          // A series seen before (its value a difference, not the cumulative one) covers the time since the previous
          // collection: the exemplars recorded since (one recorded while that collection ran may come twice).
          const since = d.value === p.value ? -Infinity : this.#previousCollectionMs;
          points[i] = { ...point(d.start, now, p.attributes, d.value),
            exemplars: p.exemplars?.filter((e) => e.timeMs >= since) };
        }
      }
    }
    delta.end();
  }
}

function startOf(stats: object, now: HrTime): HrTime {
  let t = firstSeen.get(stats);
  if (t === undefined) {
    t = now;
    firstSeen.set(stats, t);
  }
  return t;
}

function point<T>(startTime: HrTime, endTime: HrTime, attributes: Attributes, value: T): Point<T> {
  return { startTime, endTime, attributes, value };
}

/** A snapshot: the stats histogram keeps counting while an export is in flight. */
function histogramValue(h: Histogram): HistogramValue {
  const empty = h.count === 0;
  return {
    buckets: { boundaries: h.boundaries as number[], counts: Array.from(h.counts) },
    sum: h.sum,
    count: h.count,
    min: empty ? undefined : h.min,
    max: empty ? undefined : h.max,
  };
}

function sum(f: Family, temporality: AggregationTemporality, dataPoints: Point<number>[]): MetricData {
  return { descriptor: f.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.SUM,
    isMonotonic: true, dataPoints };
}

function gauge(f: Family, dataPoints: Point<number>[]): MetricData {
  return { descriptor: f.descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE, dataPoints };
}

function histogram(f: Family, temporality: AggregationTemporality, dataPoints: Point<HistogramValue>[]): MetricData {
  return { descriptor: f.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.HISTOGRAM,
    dataPoints };
}
