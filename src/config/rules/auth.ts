// auth: static (username/password) or ephemeral (TURN REST API shared secret) credentials, or none (upstream's
// STUN-only mode: no TURN user can authenticate).

import { DEFAULT_AUTH_TYPE, DEFAULT_REALM } from '../defaults.ts';
import { childPath, type ProblemSink } from '../errors.ts';
import { describeValue, readObject, readString, warnUnknownFields, type RawObject } from '../fields.ts';
import type { AuthConfig, AuthType } from '../types.ts';

/** Upstream spellings: `plaintext`/`longterm` (v1alpha1), `timewindowed` (operator GatewayConfig). */
export const AUTH_TYPE_ALIASES: Readonly<Record<string, AuthType>> = {
  static: 'static',
  plaintext: 'static',
  ephemeral: 'ephemeral',
  longterm: 'ephemeral',
  timewindowed: 'ephemeral',
};

const REQUIRED_CREDENTIALS: Readonly<Record<AuthType, readonly string[]>> = {
  static: ['username', 'password'],
  ephemeral: ['secret'],
  none: [],
};

/** Upstream v1.2.1 accepts `none` in a stunnerd config (not in a GatewayConfig, whose renderer uses the aliases). */
function parseAuthType(raw: string): AuthType | undefined {
  const lower = raw.toLowerCase();
  return lower === 'none' ? 'none' : AUTH_TYPE_ALIASES[lower];
}

export function validateAuth(raw: RawObject, path: string, problems: ProblemSink): AuthConfig {
  warnUnknownFields(raw, ['type', 'realm', 'credentials'], path, problems);
  const rawType = readString(raw, 'type', path, problems, DEFAULT_AUTH_TYPE);
  let type = parseAuthType(rawType);
  if (type === undefined) {
    problems.error(childPath(path, 'type'),
      `must be static, ephemeral or none (or plaintext, longterm, timewindowed), got ${describeValue(rawType)}`);
    type = 'static';
  }
  if (type === 'none') {
    problems.warn(childPath(path, 'type'), 'none: no TURN client can authenticate, so nothing is relayed; only STUN ' +
      'Binding requests are answered (upstream\'s STUN-only mode)');
  }

  const credsPath = childPath(path, 'credentials');
  const rawCreds = readObject(raw, 'credentials', path, problems);
  const credentials: Record<string, string> = {};
  for (const key of REQUIRED_CREDENTIALS[type]) {
    const v = rawCreds[key];
    const at = childPath(credsPath, key);
    if (v === undefined || v === null || v === '') {
      problems.error(at, `required for ${type} auth`);
    } else if (typeof v !== 'string') {
      // a YAML 0123 would silently become 123: make the user quote it
      // The value is a credential: say its type, never the value itself.
      problems.error(at, `must be a string (quote it in YAML), got a ${typeof v}`);
    } else {
      credentials[key] = v;
    }
  }

  return { type, realm: readString(raw, 'realm', path, problems, DEFAULT_REALM), credentials };
}
