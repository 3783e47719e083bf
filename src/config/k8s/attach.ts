// Which Gateway listeners a UDPRoute attaches to: Gateway API parentRefs (name, namespace,
// sectionName, port) and the listener's allowedRoutes (upstream operator: resolveParentRef,
// gatewayAllowsNamespace).

import { isObject, type RawObject } from '../fields.ts';
import type { RenderedListener } from './gateway.ts';
import type { KubeResource, ResourceIndex } from './resources.ts';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** undefined when `route` attaches to `l`, else why not. */
export function rejectsAttachment(route: KubeResource, l: RenderedListener, index: ResourceIndex): string | undefined {
  const parents = Array.isArray(route.spec.parentRefs) ? route.spec.parentRefs : [];
  let why = 'no parentRefs';
  for (const p of parents) {
    if (!isObject(p)) continue;
    const reason = rejectsParent(route, p, l, index);
    if (reason === undefined) return undefined;
    why = reason;
  }
  return why;
}

function rejectsParent(route: KubeResource, p: RawObject, l: RenderedListener, index: ResourceIndex): string | undefined {
  const gw = l.gateway;
  if ((p.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (p.kind ?? 'Gateway') !== 'Gateway') return 'parentRef is not a Gateway';
  const namespace = typeof p.namespace === 'string' && p.namespace !== '' ? p.namespace : route.namespace;
  if (p.name !== gw.name || namespace !== gw.namespace) return `no Gateway ${namespace}/${String(p.name)} in the rendered GatewayClass`;
  if (p.sectionName !== undefined && p.sectionName !== l.spec.name) return `sectionName "${String(p.sectionName)}" names another listener`;
  if (p.port !== undefined && Number(p.port) !== Number(l.spec.port)) return `port ${String(p.port)} is another listener's`;
  return rejectsNamespace(route, l, index);
}

/** allowedRoutes.namespaces.from: Same (the default), All, or Selector over Namespaces in the input. */
function rejectsNamespace(route: KubeResource, l: RenderedListener, index: ResourceIndex): string | undefined {
  const allowed = isObject(l.spec.allowedRoutes) && isObject(l.spec.allowedRoutes.namespaces) ? l.spec.allowedRoutes.namespaces : {};
  switch (allowed.from) {
    case 'All':
      return undefined;
    case 'Selector': {
      const ns = index.get('Namespace', '', route.namespace);
      if (ns === undefined) return `listener admits routes by namespace labels, and Namespace ${route.namespace} is not in the input`;
      return isObject(allowed.selector) && selectorMatches(allowed.selector, ns.labels)
        ? undefined : `listener's namespace selector does not match Namespace ${route.namespace}`;
    }
    default:
      return route.namespace === l.gateway.namespace ? undefined : `listener admits routes from namespace ${l.gateway.namespace} only`;
  }
}

/** A Kubernetes LabelSelector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
export function selectorMatches(selector: RawObject, labels: Readonly<Record<string, string>>): boolean {
  const matchLabels = isObject(selector.matchLabels) ? selector.matchLabels : {};
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  return expressions.every((e: unknown) => {
    if (!isObject(e) || typeof e.key !== 'string') return false;
    const values = Array.isArray(e.values) ? e.values : [];
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In': return has && values.includes(labels[e.key]);
      case 'NotIn': return !has || !values.includes(labels[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
}
