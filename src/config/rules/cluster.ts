// clusters[i]: the peers a listener routing to this cluster may relay to.

import { isIP } from 'node:net';
import { parseStaticEndpoint } from '../cluster-endpoint.ts';
import { DEFAULT_CLUSTER_PROTOCOL, DEFAULT_CLUSTER_TYPE } from '../defaults.ts';
import { childPath, type ProblemSink } from '../errors.ts';
import { describeValue, readString, readStringList, warnUnknownFields, type RawObject } from '../fields.ts';
import { isHostName } from '../host-name.ts';
import { CLUSTER_PROTOCOLS, CLUSTER_TYPES, type ClusterConfig, type ClusterProtocol, type ClusterType } from '../types.ts';

export function validateCluster(raw: RawObject, path: string, problems: ProblemSink): ClusterConfig {
  warnUnknownFields(raw, ['name', 'type', 'protocol', 'endpoints'], path, problems);
  const name = readString(raw, 'name', path, problems);
  if (raw.name === undefined || raw.name === null || raw.name === '') problems.error(childPath(path, 'name'), 'required');

  const type = readEnum(raw, 'type', CLUSTER_TYPES, DEFAULT_CLUSTER_TYPE, path, problems);
  const protocol = readEnum<ClusterProtocol>(raw, 'protocol', CLUSTER_PROTOCOLS, DEFAULT_CLUSTER_PROTOCOL, path,
    problems);
  const endpointsPath = childPath(path, 'endpoints');
  const endpoints = readStringList(raw, 'endpoints', path, problems).map((ep, i) =>
    normaliseEndpoint(ep, type, childPath(endpointsPath, i), problems));
  if (endpoints.length === 0) problems.warn(endpointsPath, 'no endpoints: this cluster admits no peer');
  return { name, type, protocol, endpoints };
}

function normaliseEndpoint(ep: string, type: ClusterType, path: string, problems: ProblemSink): string {
  if (type === 'STATIC') {
    const parsed = parseStaticEndpoint(ep);
    if (typeof parsed === 'string') {
      problems.error(path, parsed);
      return ep;
    }
    return parsed.text;
  }
  // STRICT_DNS: a name to resolve (an IP literal resolves to itself); ports are not checked
  const host = ep.trim().toLowerCase();
  if (isIP(host) === 0 && !isHostName(host)) {
    problems.error(path, `must be a host name for a STRICT_DNS cluster, got ${describeValue(ep)}`);
  }
  return host;
}

function readEnum<T extends string>(raw: RawObject, key: string, values: readonly T[], fallback: T, path: string,
  problems: ProblemSink): T {
  const v = readString(raw, key, path, problems, fallback);
  const found = values.find((x) => x === v.trim().toUpperCase());
  if (found !== undefined) return found;
  problems.error(childPath(path, key), `must be one of ${values.join(', ')}, got ${describeValue(v)}`);
  return fallback;
}
