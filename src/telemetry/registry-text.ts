// The gateway families written as Prometheus text (0.0.4 or OpenMetrics, with the allocation-duration exemplars)
// straight from the StatsRegistry, for the pull endpoint.
// Going through SDK data points instead allocates an object per series that lives for the whole scrape and gets
// promoted, i.e. more major GCs on the relay's event loop as the gateway grows; this way a scrape allocates only
// short-lived strings (bench/telemetry/scrape.ts compares the two). The series come
// from the same table as the OTLP producer, so pull and push agree.
import type { StatsRegistry } from '../stats/registry.ts';
import { FAMILIES } from './families.ts';
import { listenerLabels } from './labels.ts';
import { CLUSTER_SERIES, GATEWAY_SERIES, LISTENER_SERIES, buildInfoLabels, type Emit, type SeriesTable } from './registry-series.ts';
import { braces, formatValue, labelText, type ExpositionWriter } from './exposition-writer.ts';

export async function writeRegistryText(registry: StatsRegistry, version: string, w: ExpositionWriter): Promise<void> {
  // Snapshots, so every family lists the same listeners and clusters even if the registry changes mid-way.
  const listeners = [...registry.listeners.values()];
  const clusters = [...registry.clusters.values()];
  for (const t of LISTENER_SERIES) await writeFamily(w, t, listeners);
  if (listeners.length > 0) {
    const f = FAMILIES.allocationDuration;
    const name = f.descriptor.name;
    w.header(name, 'histogram', f.descriptor.description, f.descriptor.unit);
    for (const s of listeners) {
      const h = s.allocationDuration;
      w.append(w.format.histogram(name, labelText(listenerLabels(s).name), h.boundaries, h.counts, h.sum, h.count, h),
        h.counts.length + 2);
      if (w.due) await w.pause();
    }
  }
  for (const t of CLUSTER_SERIES) await writeFamily(w, t, clusters);
  for (const t of GATEWAY_SERIES) await writeFamily(w, t, [registry.gateway]);
  const info = FAMILIES.buildInfo;
  w.header(info.descriptor.name, 'gauge', info.descriptor.description, info.descriptor.unit);
  w.append(`${info.descriptor.name}${braces(labelText(buildInfoLabels(version)))} 1\n`);
}

async function writeFamily<S>(w: ExpositionWriter, t: SeriesTable<S>, items: readonly S[]): Promise<void> {
  if (items.length === 0) return;
  const name = t.family.descriptor.name;
  let empty = true;
  const emit: Emit = (attributes, value) => {
    if (empty) {
      // FamilyKind values are the Prometheus type names.
      w.header(name, t.family.kind, t.family.descriptor.description, t.family.descriptor.unit);
      empty = false;
    }
    w.append(`${name}${braces(labelText(attributes))} ${formatValue(value)}\n`);
  };
  for (const s of items) {
    t.each(s, emit);
    if (w.due) await w.pause();
  }
}
