// Upstream stunnerd config API v1alpha1 -> v1. The two share field names; v1alpha1 differs in
// spelling (auth type `plaintext`/`longterm`, listener protocol `udp`/`tcp`/`tls`/`dtls`, both
// accepted as aliases by the v1 rules) and in defaulting each listener's relay port range to
// 32768..65535 (upstream v1alpha1 DefaultMinRelayPort/DefaultMaxRelayPort), which is made explicit
// here so a converted config relays from the same ports as before.

import { childPath, type ProblemSink } from './errors.ts';
import { isObject, type RawObject } from './fields.ts';

export const V1ALPHA1_MIN_RELAY_PORT = 32768;
export const V1ALPHA1_MAX_RELAY_PORT = 65535;

export function convertV1alpha1(raw: RawObject, problems: ProblemSink): RawObject {
  problems.warn('version', 'v1alpha1 is deprecated, converted to v1');
  const listeners = Array.isArray(raw.listeners)
    ? raw.listeners.map((l: unknown) => (isObject(l) ? withRelayPortDefaults(l) : l))
    : raw.listeners;
  if (Array.isArray(raw.clusters)) {
    raw.clusters.forEach((c: unknown, i) => {
      // v1alpha1 had no cluster protocol; anything there is the v1 field, read as such
      if (isObject(c) && 'protocol' in c) problems.warn(childPath(childPath('clusters', i), 'protocol'), 'not a v1alpha1 field, read as v1');
    });
  }
  return { ...raw, version: 'v1', listeners };
}

function withRelayPortDefaults(listener: RawObject): RawObject {
  const unset = (v: unknown): boolean => v === undefined || v === null || v === 0 || v === '';
  return {
    ...listener,
    min_relay_port: unset(listener.min_relay_port) ? V1ALPHA1_MIN_RELAY_PORT : listener.min_relay_port,
    max_relay_port: unset(listener.max_relay_port) ? V1ALPHA1_MAX_RELAY_PORT : listener.max_relay_port,
  };
}
