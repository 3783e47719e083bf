// The Kubernetes resources of a multi-document YAML, indexed by kind, namespace and name. Only
// the kinds that shape a stunnerd config are kept; the rest (Services, Deployments, ...) are
// named in a warning and ignored. `kind: List` (kubectl get -o yaml) is flattened.

import { childPath, type Problems } from '../errors.ts';
import { describeValue, isObject, type RawObject } from '../fields.ts';

export const DEFAULT_NAMESPACE = 'default';

/** The apiVersions accepted for each kind (upstream operator and Gateway API releases). */
export const SUPPORTED_KINDS: Readonly<Record<string, readonly string[]>> = {
  GatewayClass: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  GatewayConfig: ['stunner.l7mp.io/v1', 'stunner.l7mp.io/v1alpha1'],
  Gateway: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  UDPRoute: ['stunner.l7mp.io/v1', 'gateway.networking.k8s.io/v1alpha2'],
  StaticService: ['stunner.l7mp.io/v1', 'stunner.l7mp.io/v1alpha1'],
  Secret: ['v1'],
  Namespace: ['v1'],
};

/** GatewayClass and Namespace have no namespace. */
const CLUSTER_SCOPED = ['GatewayClass', 'Namespace'];

export interface KubeResource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** "" for cluster-scoped kinds. */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: RawObject;
  /** The whole document, for fields outside spec (Secret data, Gateway status). */
  readonly doc: RawObject;
  /** How problems name it: `Gateway stunner/udp-gateway`. */
  readonly ref: string;
}

/** True when a parsed YAML document is a Kubernetes object rather than a stunnerd config. */
export function isKubernetesObject(doc: unknown): boolean {
  return isObject(doc) && typeof doc.apiVersion === 'string' && typeof doc.kind === 'string';
}

export class ResourceIndex {
  readonly #byKey = new Map<string, KubeResource>();
  readonly #byKind = new Map<string, KubeResource[]>();

  add(r: KubeResource): KubeResource | undefined {
    const key = `${r.kind}/${r.namespace}/${r.name}`;
    const existing = this.#byKey.get(key);
    if (existing !== undefined) return existing;
    this.#byKey.set(key, r);
    this.#byKind.set(r.kind, [...(this.#byKind.get(r.kind) ?? []), r]);
    return undefined;
  }

  replace(old: KubeResource, r: KubeResource): void {
    this.#byKey.set(`${r.kind}/${r.namespace}/${r.name}`, r);
    this.#byKind.set(r.kind, (this.#byKind.get(r.kind) ?? []).map((x) => (x === old ? r : x)));
  }

  get(kind: string, namespace: string, name: string): KubeResource | undefined {
    return this.#byKey.get(`${kind}/${CLUSTER_SCOPED.includes(kind) ? '' : namespace}/${name}`);
  }

  all(kind: string): readonly KubeResource[] {
    return this.#byKind.get(kind) ?? [];
  }
}

/** Indexes the documents; reports malformed ones and duplicates by document number. */
export function indexResources(docs: readonly unknown[], problems: Problems): ResourceIndex {
  const index = new ResourceIndex();
  const visit = (doc: unknown, where: string): void => {
    if (doc === null || doc === undefined) return; // an empty document between "---"
    if (!isKubernetesObject(doc)) {
      problems.error(where, `must be a Kubernetes object with apiVersion and kind, got ${describeValue(doc)}`);
      return;
    }
    const d = doc as RawObject;
    const kind = d.kind as string;
    if (kind === 'List' || (kind.endsWith('List') && Array.isArray(d.items))) {
      (Array.isArray(d.items) ? d.items : []).forEach((item, i) => visit(item, childPath(childPath(where, 'items'), i)));
      return;
    }
    const r = toResource(d, where, problems);
    if (r === undefined) return;
    const existing = index.add(r);
    if (existing === undefined) return;
    // upstream: a stunner.l7mp.io/v1 UDPRoute masks a Gateway API v1alpha2 one of the same name
    if (kind === 'UDPRoute' && existing.apiVersion !== r.apiVersion) {
      const [winner, masked] = r.apiVersion.startsWith('stunner.') ? [r, existing] : [existing, r];
      if (winner === r) index.replace(existing, r);
      problems.in(masked.ref).warn('', `masked by the ${winner.apiVersion} UDPRoute of the same name, ignored`);
      return;
    }
    problems.in(r.ref).error('metadata.name', 'defined more than once in the input');
  };
  const numbered = docs.filter((d) => d !== null && d !== undefined).length > 1;
  docs.forEach((doc, i) => visit(doc, numbered ? `document ${i + 1}` : ''));
  return index;
}

function toResource(d: RawObject, where: string, problems: Problems): KubeResource | undefined {
  const kind = d.kind as string;
  const apiVersion = d.apiVersion as string;
  const metadata = isObject(d.metadata) ? d.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  const scoped = !CLUSTER_SCOPED.includes(kind);
  const namespace = !scoped ? '' : typeof metadata.namespace === 'string' && metadata.namespace !== ''
    ? metadata.namespace : DEFAULT_NAMESPACE;
  const ref = `${kind} ${scoped ? `${namespace}/` : ''}${name}`;
  const versions = SUPPORTED_KINDS[kind];
  if (versions === undefined) {
    problems.warn(where, `${ref}: not a STUNner gateway resource, ignored`);
    return undefined;
  }
  if (!versions.includes(apiVersion)) {
    problems.in(ref).error('apiVersion', `must be ${versions.join(' or ')}, got ${describeValue(apiVersion)}`);
    return undefined;
  }
  if (name === '') {
    problems.error(childPath(where, 'metadata.name'), `required for ${kind}`);
    return undefined;
  }
  const labels: Record<string, string> = {};
  if (isObject(metadata.labels)) {
    for (const [k, v] of Object.entries(metadata.labels)) if (typeof v === 'string') labels[k] = v;
  }
  const spec = isObject(d.spec) ? d.spec : {};
  return { apiVersion, kind, name, namespace, labels, spec, doc: d, ref };
}
