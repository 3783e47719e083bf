// The stunnerd config, from a parsed document to a normalised, defaulted, frozen StunnerConfig.
// Every problem is collected before failing, so one run shows the user all of them.

import { childPath, Problems, type ConfigProblem } from './errors.ts';
import { describeValue, isObject, readObject, readObjectList, warnUnknownFields, type RawObject } from './fields.ts';
import { deepFreeze } from './freeze.ts';
import { validateAdmin } from './rules/admin.ts';
import { validateAuth } from './rules/auth.ts';
import { validateCluster } from './rules/cluster.ts';
import { validateListener } from './rules/listener.ts';
import type { ClusterConfig, ListenerConfig, StunnerConfig } from './types.ts';
import { convertV1alpha1 } from './v1alpha1.ts';

export interface CheckedConfig {
  readonly config: StunnerConfig;
  /** Accepted but questionable settings: unknown fields, routes to missing clusters, conversions. */
  readonly warnings: readonly ConfigProblem[];
}

/** Validates and normalises; throws ConfigError (ERR_CONFIG_INVALID) listing every problem. */
export function validateConfig(raw: unknown): StunnerConfig {
  return checkConfig(raw).config;
}

/** As validateConfig, and also returns the warnings. */
export function checkConfig(raw: unknown): CheckedConfig {
  const problems = new Problems();
  if (!isObject(raw)) {
    problems.error('', `a stunnerd config must be a map, got ${describeValue(raw)}`);
    problems.throwIfErrors();
  }
  const doc = versioned(raw as RawObject, problems);
  warnUnknownFields(doc, ['version', 'admin', 'auth', 'listeners', 'clusters'], '', problems);

  const admin = validateAdmin(readObject(doc, 'admin', '', problems), 'admin', problems);
  const auth = validateAuth(readObject(doc, 'auth', '', problems), 'auth', problems);
  const listeners = readObjectList(doc, 'listeners', '', problems).map(({ item, path }) =>
    validateListener(item, path, problems));
  const clusters = readObjectList(doc, 'clusters', '', problems).map(({ item, path }) =>
    validateCluster(item, path, problems));
  checkUniqueNames('listeners', 'listener', listeners, problems);
  checkUniqueNames('clusters', 'cluster', clusters, problems);
  checkRoutes(listeners, clusters, problems);

  problems.throwIfErrors();
  const config: StunnerConfig = { version: 'v1', admin, auth, listeners, clusters };
  return { config: deepFreeze(config), warnings: problems.warnings };
}

function versioned(raw: RawObject, problems: Problems): RawObject {
  const version = raw.version;
  if (version === 'v1') return raw;
  if (version === 'v1alpha1') return convertV1alpha1(raw, problems);
  problems.error('version', version === undefined || version === null || version === ''
    ? 'required, must be "v1" (or "v1alpha1")'
    : `must be "v1" or "v1alpha1", got ${describeValue(version)}`);
  return raw;
}

function checkUniqueNames(key: string, what: string, items: ReadonlyArray<{ name: string }>, problems: Problems): void {
  const first = new Map<string, number>();
  items.forEach(({ name }, i) => {
    if (name === '') return;
    const j = first.get(name);
    if (j === undefined) first.set(name, i);
    else problems.error(childPath(childPath(key, i), 'name'), `duplicate ${what} name "${name}" (also ${key}[${j}])`);
  });
}

/** Upstream tolerates a route to a cluster that does not exist (yet): it admits nothing. */
function checkRoutes(listeners: readonly ListenerConfig[], clusters: readonly ClusterConfig[], problems: Problems): void {
  const names = new Set(clusters.map((c) => c.name));
  listeners.forEach((l, i) => l.routes.forEach((r, j) => {
    if (!names.has(r)) problems.warn(`listeners[${i}].routes[${j}]`, `no cluster named "${r}": the route admits no peer`);
  }));
}
