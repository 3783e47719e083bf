// GatewayConfig -> the stunnerd admin and auth sections (upstream operator: renderAdmin,
// renderAuth). Inline credentials, or a Secret named by authRef, which overrides them.

import { DEFAULT_HEALTHCHECK_ENDPOINT, DEFAULT_LOGLEVEL, DEFAULT_REALM } from '../defaults.ts';
import type { ProblemSink, Problems } from '../errors.ts';
import { describeValue, isObject, readInteger, readString, warnUnknownFields, type RawObject } from '../fields.ts';
import { checkEndpoint } from '../http-endpoint.ts';
import { AUTH_TYPE_ALIASES } from '../rules/auth.ts';
import type { AuthType } from '../types.ts';
import type { KubeResource, ResourceIndex } from './resources.ts';
import { refNamespace, secretValue } from './secret.ts';

/** What the operator names the stunnerd instance it configures (upstream DefaultStunnerdInstanceName). */
export const RENDERED_ADMIN_NAME = 'stunner-daemon';

const SPEC_FIELDS = ['dataplane', 'stunnerConfig', 'realm', 'authType', 'userName', 'username', 'password',
  'sharedSecret', 'authLifetime', 'authRef', 'loadBalancerServiceAnnotations', 'logLevel', 'metricsEndpoint',
  'healthCheckEndpoint', 'userQuota', 'minPort', 'maxPort'];

export interface RenderedSettings {
  readonly admin: RawObject;
  readonly auth: RawObject;
  /** v1alpha1 GatewayConfig minPort/maxPort: every listener's relay port range. */
  readonly relayPorts: { readonly min: number; readonly max: number } | undefined;
}

export function renderGatewayConfig(gwc: KubeResource, index: ResourceIndex, problems: Problems): RenderedSettings {
  const at = problems.in(gwc.ref);
  const spec = gwc.spec;
  warnUnknownFields(spec, SPEC_FIELDS, 'spec', at);

  const admin: RawObject = {
    name: RENDERED_ADMIN_NAME,
    loglevel: readString(spec, 'logLevel', 'spec', at, DEFAULT_LOGLEVEL),
    metrics_endpoint: readEndpoint(spec, 'metricsEndpoint', '', at),
    healthcheck_endpoint: readEndpoint(spec, 'healthCheckEndpoint', DEFAULT_HEALTHCHECK_ENDPOINT, at),
    user_quota: readInteger(spec, 'userQuota', 'spec', at, 0, { min: 0 }),
  };
  const auth = isObject(spec.authRef) ? renderSecretAuth(gwc, spec.authRef, index, problems) : renderInlineAuth(spec, at);
  auth.realm = readString(spec, 'realm', 'spec', at, DEFAULT_REALM);

  const min = readInteger(spec, 'minPort', 'spec', at, 0, { min: 1, max: 65535 });
  const max = readInteger(spec, 'maxPort', 'spec', at, 0, { min: 1, max: 65535 });
  const relayPorts = min === 0 && max === 0 ? undefined : { min: min || 1, max: max || 65535 };
  return { admin, auth, relayPorts };
}

/** Absent: the default; "": off. */
function readEndpoint(spec: RawObject, key: string, fallback: string, at: ProblemSink): string {
  if (spec[key] === undefined || spec[key] === null) return fallback;
  const url = readString(spec, key, 'spec', at, '');
  const problem = url === '' ? undefined : checkEndpoint(url);
  if (problem !== undefined) at.error(`spec.${key}`, problem);
  return url;
}

function authType(raw: string, path: string, at: ProblemSink): AuthType {
  const type = AUTH_TYPE_ALIASES[raw.toLowerCase()];
  if (type !== undefined) return type;
  at.error(path, `must be static, ephemeral, plaintext, longterm or timewindowed, got ${describeValue(raw)}`);
  return 'static';
}

function renderInlineAuth(spec: RawObject, at: ProblemSink): RawObject {
  const type = authType(readString(spec, 'authType', 'spec', at, 'static'), 'spec.authType', at);
  if (spec.username !== undefined && spec.userName === undefined) {
    at.warn('spec.username', 'the GatewayConfig field is userName; read as such');
  }
  const field = (key: string, value: unknown): string => {
    if (typeof value === 'string' && value !== '') return value;
    at.error(`spec.${key}`, value === undefined || value === null || value === ''
      ? `required for ${type} auth` : `must be a string (quote it in YAML), got a ${typeof value}`);
    return '';
  };
  if (type === 'ephemeral') return { type, credentials: { secret: field('sharedSecret', spec.sharedSecret) } };
  return {
    type,
    credentials: {
      username: field('userName', spec.userName ?? spec.username),
      password: field('password', spec.password),
    },
  };
}

function renderSecretAuth(gwc: KubeResource, ref: RawObject, index: ResourceIndex, problems: Problems): RawObject {
  const at = problems.in(gwc.ref);
  const group = typeof ref.group === 'string' ? ref.group : '';
  const kind = typeof ref.kind === 'string' ? ref.kind : 'Secret';
  if (!['', 'core', 'v1'].includes(group) || kind !== 'Secret') {
    at.error('spec.authRef', `must reference a core Secret, got group ${describeValue(group)} kind ${describeValue(kind)}`);
    return { type: 'static', credentials: {} };
  }
  const namespace = refNamespace(ref, gwc.namespace);
  const name = typeof ref.name === 'string' ? ref.name : '';
  const secret = index.get('Secret', namespace, name);
  if (secret === undefined) {
    at.error('spec.authRef', `no Secret ${namespace}/${name} in the input`);
    return { type: 'static', credentials: {} };
  }
  const inSecret = problems.in(secret.ref);
  const type = authType(secretValue(secret, ['type']) ?? 'static', 'data.type', inSecret);
  const value = (keys: string[]): string => {
    const v = secretValue(secret, keys);
    if (v === undefined || v === '') inSecret.error(`data.${keys[0]}`, `required for ${type} auth`);
    return v ?? '';
  };
  if (type === 'ephemeral') return { type, credentials: { secret: value(['secret', 'sharedSecret']) } };
  return { type, credentials: { username: value(['username']), password: value(['password']) } };
}
