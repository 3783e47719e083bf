// Kubernetes resources -> stunnerd config: what the STUNner gateway operator renders into the
// stunnerd ConfigMap, as a pure function (no cluster, no I/O). The result is a raw v1 document;
// the caller expands the environment and validates it like any stunnerd config.
//
// What is rendered (following l7mp/stunner-gateway-operator, internal/renderer):
// - GatewayClass: the one whose controllerName is stunner.l7mp.io/gateway-operator (or the one
//   named in options) selects its Gateways by spec.gatewayClassName and its GatewayConfig by
//   spec.parametersRef. With no GatewayClass in the input, a single GatewayConfig applies to every
//   Gateway (so a GatewayConfig alone renders admin and auth).
// - GatewayConfig (stunner.l7mp.io v1, v1alpha1) -> admin: name "stunner-daemon", loglevel
//   (logLevel), metrics_endpoint (metricsEndpoint), healthcheck_endpoint (healthCheckEndpoint,
//   default http://:8086, "" off), user_quota (userQuota); auth: realm, type (authType, default
//   static; plaintext/longterm/timewindowed accepted), userName/password or sharedSecret, or the
//   Secret named by authRef (keys type, username, password, secret or sharedSecret), which wins.
//   v1alpha1 minPort/maxPort become every listener's relay port range.
// - Gateway (gateway.networking.k8s.io v1, v1beta1) -> one listener per spec.listeners entry:
//   name `<namespace>/<gateway>/<listener>`, protocol TURN-UDP/TCP/TLS/DTLS (bare UDP/TCP/TLS/DTLS
//   deprecated but accepted), address $STUNNER_ADDR (the pod address, from the environment),
//   port; public_address/public_port from the first spec.addresses (else status.addresses) entry
//   and the listener port, none when annotated stunner.l7mp.io/service-type: ClusterIP; for TLS
//   and DTLS, tls.crt/tls.key of the Secret in tls.certificateRefs[0], base64 as upstream writes.
// - UDPRoute (stunner.l7mp.io v1, gateway.networking.k8s.io v1alpha2; the former masks the latter)
//   -> cluster `<namespace>/<route>` from the backendRefs of all rules (see udproute.ts), routed
//   from every listener a parentRef attaches it to (name, namespace, sectionName, port, and the
//   listener's allowedRoutes: Same by default, All, or Selector over Namespaces in the input).
//   A route attached to no listener is not rendered.
// - Secret (data base64 or stringData), StaticService and Namespace are looked up by reference.
// Namespaces default to "default". Other kinds are ignored with a warning.

import { Problems, type ConfigProblem } from '../errors.ts';
import { isObject, type RawObject } from '../fields.ts';
import { rejectsAttachment } from './attach.ts';
import { renderGatewayListeners } from './gateway.ts';
import { renderGatewayConfig } from './gateway-config.ts';
import { DEFAULT_NAMESPACE, indexResources, type KubeResource, type ResourceIndex } from './resources.ts';
import { renderRouteCluster } from './udproute.ts';

export const STUNNER_CONTROLLER_NAME = 'stunner.l7mp.io/gateway-operator';

export interface RenderOptions {
  /** Which STUNner GatewayClass to render when the input holds several. */
  readonly gatewayClassName?: string;
}

export interface RenderedConfig {
  /** A raw stunnerd v1 config, to be env-expanded and validated. */
  readonly config: RawObject;
  readonly warnings: readonly ConfigProblem[];
}

/** Renders parsed YAML documents; throws ConfigError naming each bad resource and field. */
export function renderKubernetes(docs: readonly unknown[], options: RenderOptions = {}): RenderedConfig {
  const problems = new Problems();
  const index = indexResources(docs, problems);
  const root = selectHierarchy(index, options, problems);
  if (root === undefined) {
    problems.throwIfErrors();
    throw new Error('internal: no GatewayConfig selected and no problem reported');
  }
  const settings = renderGatewayConfig(root.gatewayConfig, index, problems);

  const gateways = index.all('Gateway').filter((gw) => {
    if (root.gatewayClass === undefined || gw.spec.gatewayClassName === root.gatewayClass.name) return true;
    problems.in(gw.ref).warn('spec.gatewayClassName', `not ${root.gatewayClass.name}, ignored`);
    return false;
  });
  const listeners = gateways.flatMap((gw) => renderGatewayListeners(gw, index, problems));
  const routes = listeners.map(() => [] as string[]);

  const clusters: RawObject[] = [];
  for (const route of index.all('UDPRoute')) {
    const reasons = listeners.map((l) => rejectsAttachment(route, l, index));
    if (reasons.every((r) => r !== undefined)) {
      problems.in(route.ref).warn('spec.parentRefs', `attaches to no rendered listener (${reasons.at(-1) ?? 'no listeners'}), not rendered`);
      continue;
    }
    reasons.forEach((r, i) => r === undefined && routes[i].push(`${route.namespace}/${route.name}`));
    const cluster = renderRouteCluster(route, index, problems);
    if (cluster !== undefined) clusters.push(cluster);
  }

  problems.throwIfErrors();
  const relay = settings.relayPorts === undefined ? {} : { min_relay_port: settings.relayPorts.min, max_relay_port: settings.relayPorts.max };
  return {
    config: {
      version: 'v1',
      admin: settings.admin,
      auth: settings.auth,
      listeners: listeners.map((l, i) => ({ ...l.listener, ...relay, routes: routes[i] })),
      clusters,
    },
    warnings: problems.warnings,
  };
}

interface Hierarchy {
  readonly gatewayClass: KubeResource | undefined;
  readonly gatewayConfig: KubeResource;
}

function selectHierarchy(index: ResourceIndex, options: RenderOptions, problems: Problems): Hierarchy | undefined {
  const classes = index.all('GatewayClass').filter((gc) => {
    if (gc.spec.controllerName === STUNNER_CONTROLLER_NAME) return true;
    problems.in(gc.ref).warn('spec.controllerName', `not ${STUNNER_CONTROLLER_NAME}, ignored`);
    return false;
  });
  const wanted = options.gatewayClassName;
  if (wanted !== undefined) {
    const gc = classes.find((c) => c.name === wanted);
    if (gc === undefined) problems.error('', `no STUNner GatewayClass named "${wanted}" in the input`);
    return gc && configOfClass(gc, index, problems);
  }
  if (classes.length > 1) {
    problems.error('', `${classes.length} STUNner GatewayClasses in the input (${classes.map((c) => c.name).join(', ')}): choose one to render`);
    return undefined;
  }
  if (classes.length === 1) return configOfClass(classes[0], index, problems);

  const configs = index.all('GatewayConfig');
  if (configs.length === 1) {
    if (index.all('Gateway').length > 0) {
      problems.warn('', `no GatewayClass in the input: ${configs[0].ref} applies to every Gateway`);
    }
    return { gatewayClass: undefined, gatewayConfig: configs[0] };
  }
  problems.error('', configs.length === 0
    ? 'no GatewayConfig in the input: it holds the TURN credentials'
    : `${configs.length} GatewayConfigs and no GatewayClass in the input: add the GatewayClass that chooses one`);
  return undefined;
}

function configOfClass(gc: KubeResource, index: ResourceIndex, problems: Problems): Hierarchy | undefined {
  const at = problems.in(gc.ref);
  const ref = gc.spec.parametersRef;
  if (!isObject(ref) || typeof ref.name !== 'string') {
    at.error('spec.parametersRef', 'required: the GatewayConfig of this class');
    return undefined;
  }
  if ((ref.group ?? 'stunner.l7mp.io') !== 'stunner.l7mp.io' || (ref.kind ?? 'GatewayConfig') !== 'GatewayConfig') {
    at.error('spec.parametersRef', 'must reference a stunner.l7mp.io GatewayConfig');
    return undefined;
  }
  const namespace = typeof ref.namespace === 'string' && ref.namespace !== '' ? ref.namespace : DEFAULT_NAMESPACE;
  const gatewayConfig = index.get('GatewayConfig', namespace, ref.name);
  if (gatewayConfig === undefined) {
    at.error('spec.parametersRef', `no GatewayConfig ${namespace}/${ref.name} in the input`);
    return undefined;
  }
  return { gatewayClass: gc, gatewayConfig };
}

/**
 * A problem found when validating the rendered config, named by what it was rendered as
 * (`rendered listener "stunner/gw/tls": cert: ...`), since the user never saw its JSON path.
 */
export function attributeRendered(p: ConfigProblem, config: RawObject): ConfigProblem {
  const m = /^(listeners|clusters)\[(\d+)\]\.?(.*)$/.exec(p.path);
  const list = m === null ? undefined : config[m[1]];
  const item: unknown = Array.isArray(list) ? list[Number((m as RegExpExecArray)[2])] : undefined;
  if (m === null || !isObject(item) || typeof item.name !== 'string') return { ...p, resource: 'rendered config' };
  return { ...p, resource: `rendered ${m[1].slice(0, -1)} "${item.name}"`, path: m[3] };
}
