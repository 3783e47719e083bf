// Gateway -> stunnerd listeners, one per Gateway listener, named `<namespace>/<gateway>/<listener>`
// (upstream operator: renderListener). Routes are filled in by the caller once attached.

import { childPath, type ProblemSink, type Problems } from '../errors.ts';
import { describeValue, isObject, readInteger, readObjectList, readString, type RawObject } from '../fields.ts';
import { isTlsProtocol, parseListenerProtocol } from '../rules/listener.ts';
import { LISTENER_PROTOCOLS } from '../types.ts';
import type { KubeResource, ResourceIndex } from './resources.ts';
import { refNamespace, secretValue } from './secret.ts';

/** The pod's own address, which the stunnerd Deployment passes in this variable (upstream). */
export const LISTENER_ADDRESS = '$STUNNER_ADDR';
const SERVICE_TYPE_ANNOTATION = 'stunner.l7mp.io/service-type';
const CERT_KEYS = ['tls.crt', 'crt', 'cert'];
const KEY_KEYS = ['tls.key', 'key'];

export interface RenderedListener {
  readonly gateway: KubeResource;
  /** The Gateway API listener, for route attachment. */
  readonly spec: RawObject;
  /** The stunnerd listener, without routes. */
  readonly listener: RawObject;
}

export function renderGatewayListeners(gw: KubeResource, index: ResourceIndex, problems: Problems):
  RenderedListener[] {
  const at = problems.in(gw.ref);
  const publicAddress = gatewayPublicAddress(gw);
  const seen = new Set<string>();
  return readObjectList(gw.spec, 'listeners', 'spec', at).map(({ item, path }) => {
    const name = readString(item, 'name', path, at);
    if (name === '') at.error(childPath(path, 'name'), 'required');
    else if (seen.has(name)) at.error(childPath(path, 'name'), `duplicate listener name "${name}"`);
    seen.add(name);

    const rawProtocol = readString(item, 'protocol', path, at);
    const protocol = parseListenerProtocol(rawProtocol);
    if (protocol === undefined) {
      at.error(childPath(path, 'protocol'), `must be one of ${LISTENER_PROTOCOLS.join(', ')}, got ${describeValue(rawProtocol)}`);
    } else if (!rawProtocol.toUpperCase().startsWith('TURN-')) {
      at.warn(childPath(path, 'protocol'), `"${rawProtocol}" is deprecated, read as ${protocol}`);
    }
    const port = readInteger(item, 'port', path, at, 0, { min: 1, max: 65535 });
    if (item.port === undefined || item.port === null) at.error(childPath(path, 'port'), 'required');
    else if (Number(item.port) === 0) at.error(childPath(path, 'port'), 'must be 1..65535, got 0');

    const listener: RawObject = {
      name: `${gw.namespace}/${gw.name}/${name}`,
      protocol: protocol ?? rawProtocol,
      address: LISTENER_ADDRESS,
      port,
    };
    if (publicAddress !== '') Object.assign(listener, { public_address: publicAddress, public_port: port });
    if (protocol !== undefined && isTlsProtocol(protocol)) {
      Object.assign(listener, listenerTls(gw, item, childPath(path, 'tls'), index, problems, at));
    }
    return { gateway: gw, spec: item, listener };
  });
}

/**
 * The address clients reach the Gateway at: the first spec.addresses entry (upstream's hint for the
 * LoadBalancer), else the first status.addresses entry (what the operator publishes); none when
 * the Gateway is exposed only inside the cluster.
 */
function gatewayPublicAddress(gw: KubeResource): string {
  const annotations = isObject(gw.doc.metadata) && isObject(gw.doc.metadata.annotations) ? gw.doc.metadata.annotations : {};
  if (annotations[SERVICE_TYPE_ANNOTATION] === 'ClusterIP') return '';
  const status = isObject(gw.doc.status) ? gw.doc.status : {};
  for (const list of [gw.spec.addresses, status.addresses]) {
    const first: unknown = Array.isArray(list) ? list[0] : undefined;
    if (!isObject(first) || typeof first.value !== 'string' || first.value === '') continue;
    if (first.type === undefined || first.type === 'IPAddress' || first.type === 'Hostname') return first.value;
  }
  return '';
}

/** TURN-TLS/DTLS: the certificate and key of the first certificateRef, base64 PEM as upstream renders them. */
function listenerTls(gw: KubeResource, item: RawObject, path: string, index: ResourceIndex, problems: Problems,
  at: ProblemSink): RawObject {
  const tls = isObject(item.tls) ? item.tls : {};
  if (tls.mode !== undefined && tls.mode !== 'Terminate') {
    at.error(childPath(path, 'mode'), `must be Terminate for a TURN listener, got ${describeValue(tls.mode)}`);
  }
  const refs = Array.isArray(tls.certificateRefs) ? tls.certificateRefs : [];
  const refsPath = childPath(path, 'certificateRefs');
  if (refs.length === 0) {
    at.error(refsPath, 'required for TURN-TLS and TURN-DTLS listeners');
    return {};
  }
  if (refs.length > 1) at.warn(refsPath, 'only the first certificate reference is used');
  const ref: unknown = refs[0];
  const refPath = childPath(refsPath, 0);
  if (!isObject(ref) || typeof ref.name !== 'string' || (ref.kind ?? 'Secret') !== 'Secret' || (ref.group ?? '') !== '') {
    at.error(refPath, `must reference a Secret by name, got ${describeValue(ref)}`);
    return {};
  }
  const namespace = refNamespace(ref, gw.namespace);
  const secret = index.get('Secret', namespace, ref.name);
  if (secret === undefined) {
    at.error(refPath, `no Secret ${namespace}/${ref.name} in the input`);
    return {};
  }
  const inSecret = problems.in(secret.ref);
  const cert = secretValue(secret, CERT_KEYS);
  const key = secretValue(secret, KEY_KEYS);
  if (cert === undefined) inSecret.error('data.tls.crt', 'required: the PEM certificate of a TLS listener');
  if (key === undefined) inSecret.error('data.tls.key', 'required: the PEM private key of a TLS listener');
  if (cert === undefined || key === undefined) return {};
  return { cert: Buffer.from(cert).toString('base64'), key: Buffer.from(key).toString('base64') };
}
