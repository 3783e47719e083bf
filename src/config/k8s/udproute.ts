// UDPRoute -> a stunnerd cluster named `<namespace>/<route>` (upstream operator: renderCluster).
// A Service backend becomes a STRICT_DNS endpoint `<svc>.<ns>.svc.cluster.local` (the operator's
// rendering without endpoint discovery, which needs a live cluster); a StaticService backend
// contributes its prefixes as STATIC endpoints. One cluster has one type: a backend of the other
// type is skipped with a warning, as upstream does.

import { childPath, type Problems } from '../errors.ts';
import { describeValue, readObjectList, type RawObject } from '../fields.ts';
import type { KubeResource, ResourceIndex } from './resources.ts';
import { refNamespace } from './secret.ts';

const STUNNER_GROUP = 'stunner.l7mp.io';

export function renderRouteCluster(route: KubeResource, index: ResourceIndex, problems: Problems): RawObject | undefined {
  const at = problems.in(route.ref);
  let type: 'STATIC' | 'STRICT_DNS' | undefined;
  const endpoints: string[] = [];
  // Gateway API v1alpha2 backend ports are Service ports; upstream drops them when converting
  const portRanges = route.apiVersion.startsWith(STUNNER_GROUP);

  for (const rule of readObjectList(route.spec, 'rules', 'spec', at)) {
    for (const { item: b, path } of readObjectList(rule.item, 'backendRefs', rule.path, at)) {
      const backend = resolveBackend(route, b, index);
      if (typeof backend === 'string') {
        at.warn(path, `${backend}, skipped`);
        continue;
      }
      if (type !== undefined && backend.type !== type) {
        at.warn(path, `a ${backend.type} backend cannot join this route's ${type} cluster, skipped`);
        continue;
      }
      type = backend.type;
      const range = backend.type === 'STATIC' && portRanges ? portRange(b, path, problems, route) : '';
      endpoints.push(...backend.endpoints.map((ep) => ep + range));
    }
  }
  if (type === undefined) {
    at.warn('spec.rules', 'no backend could be rendered: no cluster for this route');
    return undefined;
  }
  return { name: `${route.namespace}/${route.name}`, type, protocol: 'UDP', endpoints };
}

function resolveBackend(route: KubeResource, b: RawObject, index: ResourceIndex):
  { type: 'STATIC' | 'STRICT_DNS'; endpoints: string[] } | string {
  const group = typeof b.group === 'string' ? b.group : '';
  const kind = typeof b.kind === 'string' ? b.kind : 'Service';
  if (typeof b.name !== 'string' || b.name === '') return `name must be a non-empty string, got ${describeValue(b.name)}`;
  const namespace = refNamespace(b, route.namespace);
  if (kind === 'Service' && group === '') {
    return { type: 'STRICT_DNS', endpoints: [`${b.name}.${namespace}.svc.cluster.local`] };
  }
  if (kind === 'StaticService' && (group === STUNNER_GROUP || group === '')) {
    const svc = index.get('StaticService', namespace, b.name);
    if (svc === undefined) return `no StaticService ${namespace}/${b.name} in the input`;
    const prefixes = Array.isArray(svc.spec.prefixes) ? svc.spec.prefixes.filter((p) => typeof p === 'string') : [];
    if (prefixes.length === 0) return `StaticService ${namespace}/${b.name} has no spec.prefixes`;
    return { type: 'STATIC', endpoints: prefixes };
  }
  return `backend group ${describeValue(group)} kind ${describeValue(kind)} is neither a Service nor a ${STUNNER_GROUP} StaticService`;
}

/** port/endPort as the `:<min-max>` suffix; none for the whole port space (upstream injectPortRange). */
function portRange(b: RawObject, path: string, problems: Problems, route: KubeResource): string {
  const at = problems.in(route.ref);
  const valid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
  if (b.port === undefined) return '';
  if (!valid(b.port)) {
    at.error(childPath(path, 'port'), `must be 1..65535, got ${describeValue(b.port)}`);
    return '';
  }
  let end = b.port;
  if (b.endPort !== undefined) {
    if (!valid(b.endPort) || b.endPort < b.port) {
      at.error(childPath(path, 'endPort'), `must be ${b.port}..65535, got ${describeValue(b.endPort)}`);
      return '';
    }
    end = b.endPort;
  }
  return b.port === 1 && end === 65535 ? '' : `:<${b.port}-${end}>`;
}
