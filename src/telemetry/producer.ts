// Builds the gateway metrics from the StatsRegistry at collection time, as an sdk-metrics MetricProducer attached to
// each reader. Unlike observable instruments it keeps no per-series state: a listener or cluster removed by
// `registry.retain()` is absent from the very next collection, pull and push alike. (Observable instruments with
// cumulative temporality keep reporting removed series, and cap each instrument at 2,000 series by default.)
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
import { clusterLabels, listenerLabels, requestLabels } from './labels.ts';
import { DeltaTracker } from './delta.ts';
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
const NO_LABELS: Attributes = Object.freeze({});
const RELOAD_SUCCESS: Attributes = Object.freeze({ result: 'success' });
const RELOAD_FAILURE: Attributes = Object.freeze({ result: 'failure' });

export class RegistryMetricProducer implements MetricProducer {
  readonly #registry: StatsRegistry;
  readonly #resource: Resource;
  readonly #scope: { name: string; version: string };
  readonly #buildLabels: Attributes;
  readonly #counterTemporality: AggregationTemporality;
  readonly #histogramTemporality: AggregationTemporality;
  readonly #delta: DeltaTracker | undefined;
  readonly #sliceMs: number;

  constructor(opts: RegistryProducerOptions) {
    this.#registry = opts.registry;
    this.#resource = opts.resource;
    this.#scope = { name: SCOPE_NAME, version: opts.version };
    this.#buildLabels = Object.freeze({ version: opts.version, runtime_version: process.version });
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
    const slice = new TimeSlice(this.#sliceMs);
    const registry = this.#registry;
    const F = FAMILIES;

    const lConn: Point<number>[] = [];
    const lConnTotal: Point<number>[] = [];
    const lPackets: Point<number>[] = [];
    const lBytes: Point<number>[] = [];
    const allocs: Point<number>[] = [];
    const allocDuration: Point<HistogramValue>[] = [];
    const requests: Point<number>[] = [];
    const drops: Point<number>[] = [];
    let n = 0;
    for (const s of registry.listeners.values()) {
      const l = listenerLabels(s);
      const start = startOf(s, now);
      lConn.push(point(start, now, l.name, s.connections));
      lConnTotal.push(point(start, now, l.name, s.connectionsTotal));
      lPackets.push(point(start, now, l.rx, s.rxPackets), point(start, now, l.tx, s.txPackets));
      lBytes.push(point(start, now, l.rx, s.rxBytes), point(start, now, l.tx, s.txBytes));
      allocs.push(point(start, now, l.name, s.allocationsActive));
      allocDuration.push(point(start, now, l.name, histogramValue(s.allocationDuration)));
      for (const [key, count] of s.requests) requests.push(point(start, now, requestLabels(s, l, key), count));
      for (let i = 0; i < s.drops.length; i++) drops.push(point(start, now, l.drops[i], s.drops[i]));
      if ((++n & 15) === 0 && slice.due) await slice.yield();
    }

    const cConn: Point<number>[] = [];
    const cConnTotal: Point<number>[] = [];
    const cPackets: Point<number>[] = [];
    const cBytes: Point<number>[] = [];
    for (const s of registry.clusters.values()) {
      const c = clusterLabels(s);
      const start = startOf(s, now);
      cConn.push(point(start, now, c.pair, s.connections));
      cConnTotal.push(point(start, now, c.pair, s.connectionsTotal));
      cPackets.push(point(start, now, c.rx, s.rxPackets), point(start, now, c.tx, s.txPackets));
      cBytes.push(point(start, now, c.rx, s.rxBytes), point(start, now, c.tx, s.txBytes));
      if ((++n & 127) === 0 && slice.due) await slice.yield();
    }

    const g = registry.gateway;
    const gStart = startOf(g, now);
    const counter = this.#counterTemporality;
    const metrics: MetricData[] = [
      gauge(F.listenerConnections, lConn),
      sum(F.listenerConnectionsTotal, counter, lConnTotal),
      sum(F.listenerPackets, counter, lPackets),
      sum(F.listenerBytes, counter, lBytes),
      gauge(F.clusterConnections, cConn),
      sum(F.clusterConnectionsTotal, counter, cConnTotal),
      sum(F.clusterPackets, counter, cPackets),
      sum(F.clusterBytes, counter, cBytes),
      gauge(F.allocationsActive, allocs),
      histogram(F.allocationDuration, this.#histogramTemporality, allocDuration),
      sum(F.requests, counter, requests),
      sum(F.droppedPackets, counter, drops),
      sum(F.configReloads, counter, [
        point(gStart, now, RELOAD_SUCCESS, g.configReloadsSuccess),
        point(gStart, now, RELOAD_FAILURE, g.configReloadsFailure),
      ]),
      gauge(F.configLastReloadSuccessful, [point(gStart, now, NO_LABELS, g.lastReloadSuccessful)]),
      gauge(F.buildInfo, [point(PROCESS_START, now, this.#buildLabels, 1)]),
    ];
    if (this.#delta !== undefined) await this.#toDelta(this.#delta, metrics, now, slice);
    return {
      resourceMetrics: { resource: this.#resource, scopeMetrics: [{ scope: this.#scope, metrics }] },
      errors: [],
    };
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
        const points = m.dataPoints;
        for (let i = 0; i < points.length; i++) {
          const p = points[i];
          const d = delta.histogram(name, p.attributes, p.value, p.startTime, now);
          points[i] = point(d.start, now, p.attributes, d.value);
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
    buckets: { boundaries: h.boundaries as number[], counts: h.counts.slice() },
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
