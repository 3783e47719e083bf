// admin: name, log levels, the metrics and health-check servers, quota, and our limits extension.

import { parseLogLevels } from '../../log/logger.ts';
import {
  DEFAULT_ADMIN_NAME, DEFAULT_DRAIN_TIMEOUT, DEFAULT_HEALTHCHECK_ENDPOINT, DEFAULT_LOGLEVEL,
  DEFAULT_MAX_ALLOCATIONS, DEFAULT_MAX_CHANNELS_PER_ALLOCATION, DEFAULT_MAX_PERMISSIONS_PER_ALLOCATION,
  DEFAULT_METRICS_ENDPOINT, DEFAULT_UNAUTHENTICATED_RATE,
} from '../defaults.ts';
import { childPath, type ProblemSink } from '../errors.ts';
import { describeValue, readInteger, readObject, readString, warnUnknownFields, type RawObject } from '../fields.ts';
import { checkEndpoint } from '../http-endpoint.ts';
import type { AdminConfig, LimitsConfig } from '../types.ts';
import { checkUpstreamAdmin, UPSTREAM_ADMIN_FIELDS } from './upstream-admin.ts';

const ADMIN_FIELDS = ['name', 'loglevel', 'metrics_endpoint', 'healthcheck_endpoint', 'user_quota', 'limits'];
const LIMITS_FIELDS = ['max_allocations', 'max_permissions_per_allocation', 'max_channels_per_allocation',
  'unauthenticated_rate', 'drain_timeout'];

export function validateAdmin(raw: RawObject, path: string, problems: ProblemSink): AdminConfig {
  checkUpstreamAdmin(raw, path, problems);
  warnUnknownFields(raw, [...ADMIN_FIELDS, ...UPSTREAM_ADMIN_FIELDS], path, problems);

  const loglevel = readString(raw, 'loglevel', path, problems, DEFAULT_LOGLEVEL);
  try {
    parseLogLevels(loglevel);
  } catch (e) {
    problems.error(childPath(path, 'loglevel'), (e as Error).message);
  }

  return {
    name: readString(raw, 'name', path, problems, DEFAULT_ADMIN_NAME),
    loglevel,
    metrics_endpoint: readEndpoint(raw, 'metrics_endpoint', path, problems, DEFAULT_METRICS_ENDPOINT),
    healthcheck_endpoint: readEndpoint(raw, 'healthcheck_endpoint', path, problems, DEFAULT_HEALTHCHECK_ENDPOINT),
    user_quota: readUserQuota(raw, path, problems),
    limits: validateLimits(readObject(raw, 'limits', path, problems), childPath(path, 'limits'), problems),
  };
}

/** Absent means the default; "" means the server is off (upstream's *string semantics). */
function readEndpoint(raw: RawObject, key: string, path: string, problems: ProblemSink, fallback: string): string {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  const at = childPath(path, key);
  if (typeof v !== 'string') {
    problems.error(at, `must be a string, got ${describeValue(v)}`);
    return fallback;
  }
  if (v === '') return '';
  const problem = checkEndpoint(v);
  if (problem !== undefined) problems.error(at, problem);
  return v;
}

/** Upstream clamps a negative quota to 0 (no quota); so do we, with a warning. */
function readUserQuota(raw: RawObject, path: string, problems: ProblemSink): number {
  const quota = readInteger(raw, 'user_quota', path, problems, 0, { min: Number.MIN_SAFE_INTEGER });
  if (quota >= 0) return quota;
  problems.warn(childPath(path, 'user_quota'), `negative quota ${quota} means no quota`);
  return 0;
}

function validateLimits(raw: RawObject, path: string, problems: ProblemSink): LimitsConfig {
  warnUnknownFields(raw, LIMITS_FIELDS, path, problems);
  const nonNegative = { min: 0 };
  return {
    max_allocations: readInteger(raw, 'max_allocations', path, problems, DEFAULT_MAX_ALLOCATIONS, nonNegative),
    max_permissions_per_allocation: readInteger(raw, 'max_permissions_per_allocation', path, problems,
      DEFAULT_MAX_PERMISSIONS_PER_ALLOCATION, nonNegative),
    max_channels_per_allocation: readInteger(raw, 'max_channels_per_allocation', path, problems,
      DEFAULT_MAX_CHANNELS_PER_ALLOCATION, nonNegative),
    unauthenticated_rate: readInteger(raw, 'unauthenticated_rate', path, problems, DEFAULT_UNAUTHENTICATED_RATE,
      nonNegative),
    drain_timeout: readInteger(raw, 'drain_timeout', path, problems, DEFAULT_DRAIN_TIMEOUT, nonNegative),
  };
}
