// The Grafana dashboards under deploy/grafana/dashboards, their panels (collapsed rows included) and targets, and the
// PromQL they send, with template variables replaced the way Grafana would for "All" selections.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_DIR = join(import.meta.dirname, '..', '..', '..', 'deploy', 'grafana', 'dashboards');

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

/** A panel target as Grafana stores it: PromQL in `expr` (Prometheus), TraceQL in `query` (Tempo). */
export interface Target {
  refId?: string;
  datasource?: DatasourceRef;
  expr?: string;
  exemplar?: boolean;
  query?: string;
  queryType?: string;
  tableType?: string;
  limit?: number;
}

export interface Panel {
  id?: number;
  type?: string;
  title?: string;
  collapsed?: boolean;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: DatasourceRef;
  targets?: Target[];
  /** A row's panels: Grafana keeps a collapsed row's panels inside it. */
  panels?: Panel[];
  options?: { content?: string };
}

export interface Dashboard {
  file: string;
  uid?: string;
  title?: string;
  panels?: Panel[];
  templating?: { list?: { name: string; type: string; query?: unknown; definition?: string }[] };
}

/** One target of one panel, with the data source it is sent to (the target's own, else the panel's). */
export interface DashboardTarget {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  readonly datasource: DatasourceRef;
  readonly target: Target;
}

export interface DashboardQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
  /** Grafana also asks Prometheus for the exemplars of the series this query reads. */
  readonly exemplar: boolean;
}

export interface DashboardVariable {
  readonly dashboard: string;
  readonly name: string;
  readonly type: string;
  /** For query variables: the Grafana query, e.g. label_values(metric{...}, label); for datasource ones, the type. */
  readonly query: string;
}

export function loadDashboards(): Dashboard[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ ...(JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as object), file: f }));
}

/** Every panel, rows and the panels inside collapsed rows included. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  const walk = (panels: Panel[] | undefined): Panel[] => (panels ?? []).flatMap((p) => [p, ...walk(p.panels)]);
  return walk(dashboard.panels);
}

export function targetsOf(dashboard: Dashboard): DashboardTarget[] {
  return panelsOf(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({
    dashboard: dashboard.file,
    panel: p.title ?? '(untitled)',
    refId: t.refId ?? '?',
    datasource: t.datasource ?? p.datasource ?? {},
    target: t,
  })));
}

/** The PromQL queries: targets sent to a Prometheus data source. An empty `expr` is kept, for the static test to flag. */
export function queriesOf(dashboard: Dashboard): DashboardQuery[] {
  return targetsOf(dashboard).filter((t) => t.datasource.type === 'prometheus').map((t) => ({
    dashboard: t.dashboard, panel: t.panel, refId: t.refId, expr: t.target.expr ?? '', exemplar: t.target.exemplar === true,
  }));
}

export function variablesOf(dashboard: Dashboard): DashboardVariable[] {
  return (dashboard.templating?.list ?? []).map((v) => {
    const q = v.query;
    const query = typeof q === 'string' ? q : (q as { query?: string } | undefined)?.query ?? v.definition ?? '';
    return { dashboard: dashboard.file, name: v.name, type: v.type, query };
  });
}

/**
 * Grafana's substitutions for a query sent with every variable on "All" (allValue ".*") and a given rate interval.
 * Built-ins not listed stay in the text, so that a query using one fails loudly instead of being silently rewritten.
 */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a?: string, b?: string) => {
    const name = a ?? b ?? '';
    return Object.hasOwn(values, name) ? values[name] : whole;
  });
}

/** `label_values(selector, label)` → its parts; label_values(label) has no selector. */
export function parseLabelValues(query: string): { selector: string; label: string } | undefined {
  const m = /^\s*label_values\(\s*(?:(.*),\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/s.exec(query);
  return m ? { selector: m[1] ?? '', label: m[2] } : undefined;
}
