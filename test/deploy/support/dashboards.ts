// The Grafana dashboards under deploy/grafana/dashboards, and the PromQL they send, with template variables
// replaced the way Grafana would for "All" selections.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_DIR = join(import.meta.dirname, '..', '..', '..', 'deploy', 'grafana', 'dashboards');

export interface DashboardQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

export interface DashboardVariable {
  readonly dashboard: string;
  readonly name: string;
  readonly type: string;
  /** For query variables: the Grafana query, e.g. label_values(metric{...}, label). */
  readonly query: string;
}

interface Panel {
  title?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}

export interface Dashboard {
  file: string;
  uid?: string;
  title?: string;
  panels?: (Panel & { id?: number; datasource?: { uid?: string } })[];
  templating?: { list?: { name: string; type: string; query?: unknown; definition?: string }[] };
}

export function loadDashboards(): Dashboard[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ ...(JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as object), file: f }));
}

function panelsOf(panels: Panel[] | undefined): Panel[] {
  return (panels ?? []).flatMap((p) => [p, ...panelsOf(p.panels)]);
}

export function queriesOf(dashboard: Dashboard): DashboardQuery[] {
  return panelsOf(dashboard.panels).flatMap((p) =>
    (p.targets ?? [])
      .filter((t) => typeof t.expr === 'string' && t.expr.trim() !== '')
      .map((t) => ({ dashboard: dashboard.file, panel: p.title ?? '(untitled)', refId: t.refId ?? '?', expr: t.expr! })));
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
