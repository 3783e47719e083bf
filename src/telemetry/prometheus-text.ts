// Prometheus text exposition (format 0.0.4) of collected OTel metrics, written in chunks with time slicing.
// Replaces the exporter's PrometheusSerializer, which builds one string for the whole scrape in one go (tens of
// milliseconds at 100 listeners x 100 clusters; see bench/telemetry/scrape.ts). Naming follows that serializer
// (`_total` appended to monotonic sums that lack it) but never appends unit suffixes and never adds otel_scope_*
// labels. Label strings are cached per attributes object: the producer reuses them across scrapes.
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { diag } from '@opentelemetry/api';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { TimeSlice } from './time-slice.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Receives finished chunks; may return a promise to apply backpressure. */
export type ChunkWriter = (chunk: string) => void | Promise<void>;

export interface TextOptions {
  /** Emit `target_info` with the resource attributes (default true). */
  readonly targetInfo?: boolean;
  readonly sliceMs?: number;
  /** Chunk size in UTF-16 units before `write` is called. */
  readonly chunkSize?: number;
}

const DEFAULT_CHUNK = 64 * 1024;

/** Inner label text (`a="x",b="y"`, no braces) per attributes object. */
const labelCache = new WeakMap<Attributes, string>();

export async function writePrometheusText(rm: ResourceMetrics, write: ChunkWriter, opts: TextOptions = {}): Promise<void> {
  const slice = new TimeSlice(opts.sliceMs);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  let buf = '';
  let pending = 0; // sample lines since the last step()
  // Called every 128 sample lines (not per line: an await per line costs a microtask each): flushes a full
  // chunk and yields when the time slice is used up.
  const step = async (): Promise<void> => {
    pending = 0;
    if (buf.length >= chunkSize) {
      const chunk = buf;
      buf = '';
      await write(chunk);
    }
    if (slice.due) await slice.yield();
  };

  if (opts.targetInfo ?? true) {
    buf += '# HELP target_info Target metadata\n# TYPE target_info gauge\n';
    buf += `target_info${braces(labelText(rm.resource.attributes))} 1\n`;
  }
  for (const [name, family] of groupFamilies(rm)) {
    const first = family[0];
    buf += `# HELP ${name} ${escapeHelp(first.descriptor.description || name)}\n# TYPE ${name} ${promType(first)}\n`;
    for (const m of family) {
      if (m.dataPointType === DataPointType.SUM || m.dataPointType === DataPointType.GAUGE) {
        for (const p of m.dataPoints) {
          buf += `${name}${braces(labelText(p.attributes))} ${formatValue(p.value)}\n`;
          if (++pending >= 128) await step();
        }
      } else if (m.dataPointType === DataPointType.HISTOGRAM) {
        for (const p of m.dataPoints) {
          const inner = labelText(p.attributes);
          const sep = inner === '' ? '' : ',';
          const { boundaries, counts } = p.value.buckets;
          let cumulative = 0;
          for (let i = 0; i < counts.length; i++) {
            cumulative += counts[i];
            const le = i < boundaries.length ? formatValue(boundaries[i]) : '+Inf';
            buf += `${name}_bucket{${inner}${sep}le="${le}"} ${cumulative}\n`;
          }
          buf += `${name}_sum${braces(inner)} ${formatValue(p.value.sum ?? 0)}\n`;
          buf += `${name}_count${braces(inner)} ${p.value.count}\n`;
          pending += counts.length + 2;
          if (pending >= 128) await step();
        }
      }
    }
  }
  if (buf !== '') await write(buf);
}

/** Convenience for tests and small outputs. */
export async function prometheusText(rm: ResourceMetrics, opts?: TextOptions): Promise<string> {
  const parts: string[] = [];
  await writePrometheusText(rm, (c) => void parts.push(c), opts);
  return parts.join('');
}

/** Metrics grouped by exposed name (a family must be contiguous); later metrics of a different type are dropped. */
function groupFamilies(rm: ResourceMetrics): Map<string, MetricData[]> {
  const families = new Map<string, MetricData[]>();
  for (const scope of rm.scopeMetrics) {
    for (const m of scope.metrics) {
      if (m.dataPoints.length === 0 || m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) continue;
      const name = exposedName(m);
      const family = families.get(name);
      if (family === undefined) {
        families.set(name, [m]);
      } else if (promType(family[0]) === promType(m)) {
        family.push(m);
      } else {
        diag.warn(`Prometheus exposition: metric ${name} from scope ${scope.scope.name} conflicts in type; dropped`);
      }
    }
  }
  return families;
}

export function exposedName(m: MetricData): string {
  let name = sanitizeName(m.descriptor.name);
  if (m.dataPointType === DataPointType.SUM && m.isMonotonic && !name.endsWith('_total')) name += '_total';
  return name;
}

function promType(m: MetricData): string {
  switch (m.dataPointType) {
    case DataPointType.SUM: return m.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.HISTOGRAM: return 'histogram';
    default: return 'gauge';
  }
}

function labelText(attributes: Attributes): string {
  let text = labelCache.get(attributes);
  if (text === undefined) {
    text = '';
    for (const key in attributes) {
      const v = attributes[key];
      if (v === undefined) continue;
      text += `${text === '' ? '' : ','}${sanitizeName(key)}="${escapeLabelValue(v)}"`;
    }
    labelCache.set(attributes, text);
  }
  return text;
}

function braces(inner: string): string {
  return inner === '' ? '' : `{${inner}}`;
}

/** Prometheus metric and label names: `[a-zA-Z_][a-zA-Z0-9_]*` (OTel names may contain `.`, `-`, `/`). */
function sanitizeName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

function escapeLabelValue(v: AttributeValue): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
