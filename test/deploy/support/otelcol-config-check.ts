// Structural check of an OpenTelemetry Collector configuration, for CI machines that cannot download otelcol-contrib
// to run `otelcol-contrib validate`: the YAML parses, every component has a known contrib type, every pipeline names
// defined components only, and the processors follow the collector's recommended order.
import YAML from 'yaml';
import { OTELCOL_CONTRIB_COMPONENTS, PIPELINE_SIGNALS } from './otelcol-components.ts';

type Kind = keyof typeof OTELCOL_CONTRIB_COMPONENTS;
const KINDS: readonly Kind[] = ['receivers', 'processors', 'exporters', 'extensions', 'connectors'];
const TOP_LEVEL = new Set([...KINDS, 'service']);

interface Pipeline { receivers?: string[]; processors?: string[]; exporters?: string[] }
interface CollectorConfig {
  service?: { extensions?: string[]; pipelines?: Record<string, Pipeline>; telemetry?: unknown };
  [kind: string]: unknown;
}

const typeOf = (id: string): string => id.split('/')[0];

/** Problems found in the config text; empty when it passes. */
export function checkCollectorConfig(text: string): string[] {
  const problems: string[] = [];
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) return doc.errors.map((e) => `YAML: ${e.message}`);
  const config = doc.toJS() as CollectorConfig | null;
  if (config === null || typeof config !== 'object') return ['not a YAML mapping'];

  for (const key of Object.keys(config)) if (!TOP_LEVEL.has(key)) problems.push(`unknown top-level key "${key}"`);
  const defined = new Map<Kind, Set<string>>();
  for (const kind of KINDS) {
    const section = (config[kind] ?? {}) as Record<string, unknown>;
    defined.set(kind, new Set(Object.keys(section)));
    for (const id of Object.keys(section)) {
      if (!/^[a-z0-9_]+(\/[A-Za-z0-9_.-]+)?$/.test(id)) problems.push(`${kind}.${id}: not a component id (type[/name])`);
      if (!OTELCOL_CONTRIB_COMPONENTS[kind].has(typeOf(id))) problems.push(`${kind}.${id}: unknown ${kind} type "${typeOf(id)}"`);
    }
  }

  const pipelines = config.service?.pipelines ?? {};
  if (Object.keys(pipelines).length === 0) problems.push('service.pipelines: none');
  const used = new Set<string>();
  const connectors = defined.get('connectors')!;
  for (const [name, p] of Object.entries(pipelines)) {
    const where = `service.pipelines.${name}`;
    if (!PIPELINE_SIGNALS.has(name.split('/')[0])) problems.push(`${where}: signal must be traces, metrics or logs`);
    if (!p.receivers?.length) problems.push(`${where}: no receivers`);
    if (!p.exporters?.length) problems.push(`${where}: no exporters`);
    for (const [kind, ids] of [['receivers', p.receivers], ['processors', p.processors], ['exporters', p.exporters]] as const) {
      for (const id of ids ?? []) {
        used.add(`${kind}:${id}`);
        const isConnector = kind !== 'processors' && connectors.has(id);
        if (isConnector) used.add(`connectors:${id}`);
        if (!defined.get(kind)!.has(id) && !isConnector) problems.push(`${where}.${kind}: "${id}" is not defined in ${kind}`);
      }
    }
    const procs = (p.processors ?? []).map(typeOf);
    if (!procs.includes('memory_limiter')) problems.push(`${where}: no memory_limiter`);
    else if (procs[0] !== 'memory_limiter') problems.push(`${where}: memory_limiter must be the first processor`);
    if (procs.includes('batch') && procs.indexOf('batch') !== procs.length - 1) {
      problems.push(`${where}: batch must be the last processor (after anything that changes or drops data)`);
    }
  }
  for (const id of config.service?.extensions ?? []) {
    used.add(`extensions:${id}`);
    if (!defined.get('extensions')!.has(id)) problems.push(`service.extensions: "${id}" is not defined`);
  }
  for (const kind of KINDS) {
    for (const id of defined.get(kind)!) if (!used.has(`${kind}:${id}`)) problems.push(`${kind}.${id}: defined but not used`);
  }

  // ${env:NAME} or ${env:NAME:-default}; "$$" is a literal "$". A bare $NAME or ${NAME} is the deprecated form.
  for (const m of text.matchAll(/\$(\$|\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)/g)) {
    if (m[1] === '$') continue;
    if (!/^\{env:[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$/.test(m[1])) problems.push(`"${m[0]}": write \${env:NAME} (or $$ for a literal $)`);
  }
  return problems;
}
