// auth: static (username/password) or ephemeral (TURN REST API shared secret) credentials.

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
};

export function validateAuth(raw: RawObject, path: string, problems: ProblemSink): AuthConfig {
  warnUnknownFields(raw, ['type', 'realm', 'credentials'], path, problems);
  const rawType = readString(raw, 'type', path, problems, DEFAULT_AUTH_TYPE);
  let type = AUTH_TYPE_ALIASES[rawType.toLowerCase()];
  if (type === undefined) {
    problems.error(childPath(path, 'type'),
      `must be static or ephemeral (or plaintext, longterm, timewindowed), got ${describeValue(rawType)}`);
    type = 'static';
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
