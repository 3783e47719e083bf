// Prometheus text (0.0.4 or OpenMetrics, as the writer's format says) of metrics collected through the SDK (runtime
// metrics, or anything a reader returns): `target_info` from the resource, then one contiguous family per exposed
// name. Naming follows exporter-prometheus (`_total` appended to monotonic sums that lack it) but never appends unit
// suffixes and adds no otel_scope_* labels.
import { diag } from '@opentelemetry/api';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  ExpositionWriter, braces, formatValue, labelText, sanitizeName, type FamilyType, type WriterOptions,
} from './exposition-writer.ts';

export async function writeMetricsText(rm: ResourceMetrics, w: ExpositionWriter, opts: { targetInfo?: boolean } = {}):
  Promise<void> {
  if (opts.targetInfo ?? true) {
    w.header('target_info', 'info', 'Target metadata');
    w.append(`target_info${braces(labelText(rm.resource.attributes))} 1\n`);
  }
  for (const [name, family] of groupFamilies(rm)) {
    const d = family[0].descriptor;
    w.header(name, promType(family[0]), d.description, d.unit);
    for (const m of family) {
      if (m.dataPointType === DataPointType.SUM || m.dataPointType === DataPointType.GAUGE) {
        for (const p of m.dataPoints) {
          w.append(`${name}${braces(labelText(p.attributes))} ${formatValue(p.value)}\n`);
          if (w.due) await w.pause();
        }
      } else if (m.dataPointType === DataPointType.HISTOGRAM) {
        for (const p of m.dataPoints) {
          const { boundaries, counts } = p.value.buckets;
          w.append(w.format.histogram(name, labelText(p.attributes), boundaries, counts, p.value.sum ?? 0, p.value.count),
            counts.length + 2);
          if (w.due) await w.pause();
        }
      }
    }
  }
}

/** The whole text as one string (tests, diagnostics). */
export async function prometheusText(rm: ResourceMetrics, opts?: WriterOptions & { targetInfo?: boolean }): Promise<string> {
  const parts: string[] = [];
  const w = new ExpositionWriter((c) => void parts.push(c), opts);
  await writeMetricsText(rm, w, opts);
  await w.end();
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

function promType(m: MetricData): FamilyType {
  switch (m.dataPointType) {
    case DataPointType.SUM: return m.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.HISTOGRAM: return 'histogram';
    default: return 'gauge';
  }
}
