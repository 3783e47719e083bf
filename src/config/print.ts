// A config as YAML or JSON for `stunnerd render`, inspection and logs, with secrets hidden:
// passwords, shared secrets and TLS material never leave the process.

import { stringify } from 'yaml';
import type { StunnerConfig } from './types.ts';

export const REDACTED = '<redacted>';

/** Credentials shown as they are; every other credential is a secret. */
const VISIBLE_CREDENTIALS = ['username'];

/** A plain copy of the config in file format, secrets replaced by REDACTED ("" stays ""). */
export function redactConfig(config: StunnerConfig): Record<string, unknown> {
  const hide = (v: string): string => (v === '' ? '' : REDACTED);
  const credentials = Object.fromEntries(Object.entries(config.auth.credentials)
    .map(([k, v]) => [k, VISIBLE_CREDENTIALS.includes(k) ? v : hide(v)]));
  return {
    version: config.version,
    admin: { ...config.admin, limits: { ...config.admin.limits } },
    auth: { ...config.auth, credentials },
    listeners: config.listeners.map((l) => ({ ...l, cert: hide(l.cert), key: hide(l.key), routes: [...l.routes] })),
    clusters: config.clusters.map((c) => ({ ...c, endpoints: [...c.endpoints] })),
  };
}

/** The redacted config, in the stunnerd file format, as YAML (the default) or indented JSON. */
export function printConfig(config: StunnerConfig, format: 'yaml' | 'json' = 'yaml'): string {
  const redacted = redactConfig(config);
  return format === 'json' ? `${JSON.stringify(redacted, null, 2)}\n` : stringify(redacted, { lineWidth: 0 });
}
