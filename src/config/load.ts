// Loading a config: file -> documents -> (Kubernetes resources rendered) -> environment expanded
// -> validated. The only I/O of the config module is the file read in loadConfigFile.

import { readFile } from 'node:fs/promises';
import { CONFIG_ERROR_CODES, ConfigError, type ConfigProblem } from './errors.ts';
import { expandConfigEnv, type Environment } from './env.ts';
import { isObject } from './fields.ts';
import { attributeRendered, renderKubernetes } from './k8s/render.ts';
import { isKubernetesObject } from './k8s/resources.ts';
import { replaceNodeAddressPlaceholder } from './node-address.ts';
import { parseDocuments } from './parse.ts';
import type { StunnerConfig } from './types.ts';
import { checkConfig } from './validate.ts';

/** The key under which the operator renders stunnerd's config into its ConfigMap. */
export const CONFIGMAP_KEY = 'stunnerd.conf';

export interface LoadedConfig {
  readonly config: StunnerConfig;
  readonly warnings: readonly ConfigProblem[];
  /** A stunnerd config file, or Kubernetes resources rendered into one. */
  readonly source: 'stunnerd' | 'kubernetes';
}

export interface LoadOptions {
  /** Variables for `$VAR` expansion; process.env by default. */
  readonly env?: Environment;
  /** Which STUNner GatewayClass to render when Kubernetes input holds several. */
  readonly gatewayClassName?: string;
}

/** Parses, renders, expands and validates config text; throws ConfigError. */
export function loadConfigText(text: string, options: LoadOptions = {}): LoadedConfig {
  const docs = parseDocuments(text);
  const present = docs.filter((d) => d !== null);
  if (present.length === 0) throw new ConfigError(CONFIG_ERROR_CODES.invalid, [{ path: '', message: 'empty config' }]);
  const env = options.env ?? process.env;

  if (docs.some(isKubernetesObject)) {
    const inConfigMap = configMapContent(docs);
    if (inConfigMap !== undefined) return { ...loadConfigText(inConfigMap, options), source: 'stunnerd' };
    const rendered = renderKubernetes(docs, { gatewayClassName: options.gatewayClassName });
    const attribute = (p: ConfigProblem): ConfigProblem => attributeRendered(p, rendered.config);
    try {
      const { config, warnings } = checkConfig(expandConfigEnv(rendered.config, env));
      return { config, warnings: [...rendered.warnings, ...warnings.map(attribute)], source: 'kubernetes' };
    } catch (e) {
      throw e instanceof ConfigError ? new ConfigError(e.code, e.problems.map(attribute)) : e;
    }
  }
  if (present.length > 1) {
    throw new ConfigError(CONFIG_ERROR_CODES.invalid,
      [{ path: '', message: `a stunnerd config is a single document, got ${present.length}` }]);
  }
  const placed = replaceNodeAddressPlaceholder(present[0]);
  const { config, warnings } = checkConfig(expandConfigEnv(placed.doc, withStunnerPort(env)));
  return { config, warnings: [...placed.warnings, ...warnings], source: 'stunnerd' };
}

/** Reads and loads a config file; every error is a ConfigError naming the file. */
export async function loadConfigFile(path: string, env?: Environment, options: LoadOptions = {}): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(CONFIG_ERROR_CODES.read, [{ path: '', message: `cannot read: ${(e as Error).message}` }], path,
      { cause: e });
  }
  try {
    return loadConfigText(text, { ...options, env: env ?? options.env });
  } catch (e) {
    throw e instanceof ConfigError ? e.inFile(path) : e;
  }
}

/**
 * Upstream expands `$STUNNER_PORT` as if it were set to STUNNER_PUBLIC_PORT (or 3478) when it is unset or not a
 * number; the same here, without touching the process environment.
 */
function withStunnerPort(env: Environment): Environment {
  const port = env.STUNNER_PORT;
  if (port !== undefined && /^[0-9]+$/.test(port)) return env;
  const publicPort = env.STUNNER_PUBLIC_PORT;
  const fallback = publicPort !== undefined && /^[+-]?[0-9]+$/.test(publicPort) ? String(Number(publicPort)) : '3478';
  return { ...env, STUNNER_PORT: fallback };
}

/** A dump of the operator's stunnerd ConfigMap (and nothing to render) carries the config itself. */
function configMapContent(docs: readonly unknown[]): string | undefined {
  const [only, ...rest] = docs.filter((d) => d !== null);
  if (rest.length > 0 || !isObject(only) || only.kind !== 'ConfigMap' || !isObject(only.data)) return undefined;
  const content = only.data[CONFIGMAP_KEY];
  return typeof content === 'string' ? content : undefined;
}
