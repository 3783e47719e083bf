// Which config a stunnerd asks the CDS server for, as upstream picks it (docs/cds-protocol.md, "Roles and
// identity"): -i, else STUNNER_NAMESPACE/STUNNER_NAME (both set), else default/stunnerd-<hostname>.
import type { Environment } from '../env.ts';

export const ENV_NAME = 'STUNNER_NAME';
export const ENV_NAMESPACE = 'STUNNER_NAMESPACE';
export const ENV_NODE_NAME = 'STUNNER_NODENAME';
export const ENV_CONFIG_ORIGIN = 'STUNNER_CONFIG_ORIGIN';

export function resolveInstanceId(flag: string | undefined, env: Environment, hostname: string): string {
  if (flag !== undefined && flag !== '') return flag;
  const name = env[ENV_NAME];
  const namespace = env[ENV_NAMESPACE];
  // Upstream checks that both are set, not that they are non-empty.
  if (name !== undefined && namespace !== undefined) return `${namespace}/${name}`;
  return `default/stunnerd-${hostname}`;
}

/** `<namespace>/<name>`, or undefined when the id does not split on "/" into exactly two parts. */
export function splitInstanceId(id: string): { namespace: string; name: string } | undefined {
  const parts = id.split('/');
  if (parts.length !== 2) return undefined;
  return { namespace: parts[0], name: parts[1] };
}
