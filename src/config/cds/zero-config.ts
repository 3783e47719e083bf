// The zero-config: what a CDS server sends for a deleted config, and what stunnerd -w runs before the first
// config arrives (upstream's client.ZeroConfig): no listeners, no clusters, a dummy static user, the default
// health-check endpoint. Recognised by value, as upstream does: there is no other delete marker.
import { DEFAULT_REALM } from '../defaults.ts';
import type { StunnerConfig } from '../types.ts';
import { validateConfig } from '../validate.ts';

/** The zero-config document for `id` as a CDS server puts it on the wire. */
export function zeroConfigDocument(id: string): Record<string, unknown> {
  return {
    version: 'v1',
    admin: { name: id },
    auth: { type: 'static', realm: DEFAULT_REALM, credentials: { username: 'dummy-username', password: 'dummy-password' } },
  };
}

/** The bootstrap config of stunnerd -w, validated. */
export function zeroConfig(id: string): StunnerConfig {
  return validateConfig(zeroConfigDocument(id));
}

/** A delete: equal to the zero-config of its own admin.name (upstream's IsConfigDeleted). */
export function isDeleteConfig(config: StunnerConfig): boolean {
  return sameConfig(config, zeroConfig(config.admin.name));
}

/** The bootstrap config whatever its log level (upstream's IsZeroConfig): running it is not being ready. */
export function isZeroConfig(config: StunnerConfig): boolean {
  const zero = zeroConfig(config.admin.name);
  return sameConfig(config, { ...zero, admin: { ...zero.admin, loglevel: config.admin.loglevel } });
}

// Validated configs are built field by field in a fixed order, so equal configs serialise equally.
function sameConfig(a: StunnerConfig, b: StunnerConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
