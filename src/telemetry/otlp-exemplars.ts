// Exemplars in the OTLP push. The producer hangs each histogram data point's exemplars on the point
// (`ExemplarDataPoint`); @opentelemetry/otlp-transformer 0.301.0 serializes data points without them, so these
// serializers take its output and add them: into the protobuf, by re-encoding only the messages on the path down to
// each histogram data point (the rest is copied as it is); into the JSON, on the parsed request. A batch without
// exemplars is the transformer's output untouched.
//
// OTLP metrics.proto: ExportMetricsServiceRequest.resource_metrics = 1, ResourceMetrics.scope_metrics = 2,
// ScopeMetrics.metrics = 2, Metric.histogram = 9, Histogram.data_points = 1, HistogramDataPoint.exemplars = 8,
// Exemplar { time_unix_nano = 2 (fixed64), as_double = 3, span_id = 4 (bytes), trace_id = 5 (bytes) }.
import {
  JsonMetricsSerializer, ProtobufMetricsSerializer, type IExportMetricsServiceResponse, type ISerializer,
} from '@opentelemetry/otlp-transformer';
import {
  DataPointType, type DataPoint, type Histogram as HistogramValue, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Exemplar, ExemplarSource } from '../stats/histogram.ts';

/** A histogram data point and the exemplars of its buckets (the SDK's DataPoint has no place for them). */
export interface ExemplarDataPoint extends DataPoint<HistogramValue> {
  readonly exemplars?: readonly Exemplar[];
}

export type MetricsSerializer = ISerializer<ResourceMetrics, IExportMetricsServiceResponse>;

/** The exemplars of a histogram's buckets, in bucket order; none recorded = an empty array. */
export function bucketExemplars(source: ExemplarSource, buckets: number): Exemplar[] {
  const out: Exemplar[] = [];
  for (let b = 0; b < buckets; b++) {
    const e = source.exemplar(b);
    if (e !== undefined) out.push(e);
  }
  return out;
}

export const PROTOBUF_EXEMPLAR_SERIALIZER: MetricsSerializer = {
  serializeRequest(rm) {
    const bytes = ProtobufMetricsSerializer.serializeRequest(rm);
    const found = findExemplars(rm);
    return bytes === undefined || found === undefined ? bytes : addProtobufExemplars(bytes, found);
  },
  deserializeResponse: (data) => ProtobufMetricsSerializer.deserializeResponse(data),
};

export const JSON_EXEMPLAR_SERIALIZER: MetricsSerializer = {
  serializeRequest(rm) {
    const bytes = JsonMetricsSerializer.serializeRequest(rm);
    const found = findExemplars(rm);
    return bytes === undefined || found === undefined ? bytes : addJsonExemplars(bytes, found);
  },
  deserializeResponse: (data) => JsonMetricsSerializer.deserializeResponse(data),
};

/** scope index -> metric index -> data point index -> exemplars, as the serializers write them (in order). */
type Found = Map<number, Map<number, Map<number, readonly Exemplar[]>>>;

function findExemplars(rm: ResourceMetrics): Found | undefined {
  let found: Found | undefined;
  rm.scopeMetrics.forEach((scope, i) => scope.metrics.forEach((m, j) => {
    if (m.dataPointType !== DataPointType.HISTOGRAM) return;
    m.dataPoints.forEach((p: ExemplarDataPoint, k) => {
      if (p.exemplars === undefined || p.exemplars.length === 0) return;
      found ??= new Map();
      let metrics = found.get(i);
      if (metrics === undefined) found.set(i, metrics = new Map());
      let points = metrics.get(j);
      if (points === undefined) metrics.set(j, points = new Map());
      points.set(k, p.exemplars);
    });
  }));
  return found;
}

// ---- JSON: OTLP/JSON writes trace and span ids as hex, 64-bit integers as decimal strings.

interface JsonRequest {
  resourceMetrics: { scopeMetrics: { metrics: { histogram?: { dataPoints: Record<string, unknown>[] } }[] }[] }[];
}

function addJsonExemplars(bytes: Uint8Array, found: Found): Uint8Array {
  const request = JSON.parse(new TextDecoder().decode(bytes)) as JsonRequest;
  const scopes = request.resourceMetrics[0].scopeMetrics;
  for (const [i, metrics] of found) {
    for (const [j, points] of metrics) {
      const dataPoints = scopes[i].metrics[j].histogram!.dataPoints;
      for (const [k, exemplars] of points) {
        dataPoints[k].exemplars = exemplars.map((e) => ({
          timeUnixNano: unixNanos(e.timeMs).toString(), asDouble: e.value, spanId: e.spanId, traceId: e.traceId,
        }));
      }
    }
  }
  return new TextEncoder().encode(JSON.stringify(request));
}

// ---- Protobuf.

/** Encoded bytes kept as the pieces they are made of, concatenated once at the end. */
interface Pieces {
  readonly parts: Uint8Array[];
  length: number;
}

function addProtobufExemplars(bytes: Uint8Array, found: Found): Uint8Array {
  const edited = editFields(bytes, 0, bytes.length, 1, (_, s, e) => // ResourceMetrics
    editFields(bytes, s, e, 2, (i, s, e) => { // ScopeMetrics i
      const metrics = found.get(i);
      return metrics && editFields(bytes, s, e, 2, (j, s, e) => { // Metric j
        const points = metrics.get(j);
        return points && editFields(bytes, s, e, 9, (_, s, e) => // Histogram
          editFields(bytes, s, e, 1, (k, s, e) => { // HistogramDataPoint k
            const exemplars = points.get(k);
            if (exemplars === undefined) return undefined;
            const out: Pieces = { parts: [bytes.subarray(s, e)], length: e - s };
            for (const x of exemplars) append(out, field(8, exemplarMessage(x)));
            return out;
          }));
      });
    }));
  if (edited === undefined) return bytes;
  const out = new Uint8Array(edited.length);
  let at = 0;
  for (const p of edited.parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The message `buf[start, end)` with its length-delimited fields number `number` passed through `edit` (their
 * index among those fields, their content); undefined when `edit` changed none of them.
 */
function editFields(buf: Uint8Array, start: number, end: number, number: number,
  edit: (index: number, start: number, end: number) => Pieces | undefined): Pieces | undefined {
  const out: Pieces = { parts: [], length: 0 };
  let copied = start;
  let index = 0;
  let at = start;
  while (at < end) {
    const tagAt = at;
    const tag = readVarint(buf, at);
    at = tag.next;
    const wire = tag.value & 7;
    if (wire === 2) {
      const len = readVarint(buf, at);
      const body = len.next;
      at = body + len.value;
      if (Math.floor(tag.value / 8) !== number) continue;
      const replaced = edit(index++, body, at);
      if (replaced === undefined) continue;
      append(out, buf.subarray(copied, tagAt));
      append(out, varint(number * 8 + 2));
      append(out, varint(replaced.length));
      for (const p of replaced.parts) append(out, p);
      copied = at;
    } else if (wire === 0) {
      at = readVarint(buf, at).next;
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else {
      throw new Error(`OTLP exemplars: unexpected protobuf wire type ${wire}`);
    }
  }
  if (copied === start) return undefined;
  append(out, buf.subarray(copied, end));
  return out;
}

/** Exemplar { time_unix_nano = 2, as_double = 3, span_id = 4, trace_id = 5 }: 46 bytes. */
function exemplarMessage(e: Exemplar): Uint8Array {
  const out = new Uint8Array(46);
  const view = new DataView(out.buffer);
  out[0] = (2 << 3) | 1;
  view.setBigUint64(1, unixNanos(e.timeMs), true);
  out[9] = (3 << 3) | 1;
  view.setFloat64(10, e.value, true);
  out[18] = (4 << 3) | 2;
  out[19] = 8;
  out.set(Buffer.from(e.spanId, 'hex'), 20);
  out[28] = (5 << 3) | 2;
  out[29] = 16;
  out.set(Buffer.from(e.traceId, 'hex'), 30);
  return out;
}

function field(number: number, message: Uint8Array): Uint8Array {
  const tag = varint(number * 8 + 2);
  const len = varint(message.length);
  const out = new Uint8Array(tag.length + len.length + message.length);
  out.set(tag);
  out.set(len, tag.length);
  out.set(message, tag.length + len.length);
  return out;
}

function append(out: Pieces, part: Uint8Array): void {
  if (part.length === 0) return;
  out.parts.push(part);
  out.length += part.length;
}

function unixNanos(timeMs: number): bigint {
  return BigInt(Math.round(timeMs)) * 1_000_000n;
}

/** Lengths and tags only: below 2^53, so plain numbers do. */
function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return Uint8Array.from(bytes);
}

function readVarint(buf: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (at >= buf.length) throw new Error('OTLP exemplars: truncated protobuf varint');
    const b = buf[at++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return { value, next: at };
    scale *= 0x80;
  }
}
