// listeners[i]: one TURN server socket, its relay address and port range, TLS material, and the
// clusters it may relay to.

import { isIP } from 'node:net';
import { DEFAULT_LISTENER_ADDRESS, DEFAULT_LISTENER_PROTOCOL, DEFAULT_PORT } from '../defaults.ts';
import { childPath, type ProblemSink } from '../errors.ts';
import { describeValue, readInteger, readString, readStringList, warnUnknownFields, type RawObject } from '../fields.ts';
import { isHostName } from '../host-name.ts';
import { checkCertificatePair, decodePem } from '../pem.ts';
import { LISTENER_PROTOCOLS, type ListenerConfig, type ListenerProtocol } from '../types.ts';

const LISTENER_FIELDS = ['name', 'protocol', 'address', 'port', 'public_address', 'public_port',
  'min_relay_port', 'max_relay_port', 'cert', 'key', 'routes'];
const PORT = { min: 1, max: 65535 };

/** TURN-UDP etc., case-insensitive; upstream also accepts the bare transport (UDP = TURN-UDP). */
export function parseListenerProtocol(raw: string): ListenerProtocol | undefined {
  const upper = raw.trim().toUpperCase();
  const full = upper.startsWith('TURN-') ? upper : `TURN-${upper}`;
  return LISTENER_PROTOCOLS.find((p) => p === full);
}

export function isTlsProtocol(p: ListenerProtocol): boolean {
  return p === 'TURN-TLS' || p === 'TURN-DTLS';
}

export function validateListener(raw: RawObject, path: string, problems: ProblemSink): ListenerConfig {
  warnUnknownFields(raw, LISTENER_FIELDS, path, problems);
  const name = readString(raw, 'name', path, problems);
  if (raw.name === undefined || raw.name === null || raw.name === '') problems.error(childPath(path, 'name'), 'required');

  const rawProtocol = readString(raw, 'protocol', path, problems, DEFAULT_LISTENER_PROTOCOL);
  let protocol = parseListenerProtocol(rawProtocol);
  if (protocol === undefined) {
    problems.error(childPath(path, 'protocol'),
      `must be one of ${LISTENER_PROTOCOLS.join(', ')}, got ${describeValue(rawProtocol)}`);
    protocol = DEFAULT_LISTENER_PROTOCOL;
  }

  let address = readString(raw, 'address', path, problems, DEFAULT_LISTENER_ADDRESS).trim();
  // Upstream special-cases this one name.
  if (address === 'localhost') address = '127.0.0.1';
  if (isIP(address) === 0) problems.error(childPath(path, 'address'), `must be an IP address, got ${describeValue(address)}`);

  const publicAddress = readString(raw, 'public_address', path, problems).trim();
  if (publicAddress !== '' && isIP(publicAddress) === 0 && !isHostName(publicAddress)) {
    problems.error(childPath(path, 'public_address'),
      `must be an IP address or host name, got ${describeValue(publicAddress)}`);
  }

  const routes = readStringList(raw, 'routes', path, problems);
  routes.forEach((r, i) => {
    if (routes.indexOf(r) !== i) problems.warn(childPath(childPath(path, 'routes'), i), `duplicate route "${r}"`);
  });

  return {
    name,
    protocol,
    address,
    port: readInteger(raw, 'port', path, problems, DEFAULT_PORT, PORT),
    public_address: publicAddress,
    public_port: readInteger(raw, 'public_port', path, problems, 0, PORT),
    ...readRelayPortRange(raw, path, problems),
    ...readTls(raw, protocol, path, problems),
    routes,
  };
}

/** Neither bound: any ephemeral port (0..0). One bound: the other is the end of the port space. */
function readRelayPortRange(raw: RawObject, path: string, problems: ProblemSink):
  Pick<ListenerConfig, 'min_relay_port' | 'max_relay_port'> {
  const min = readInteger(raw, 'min_relay_port', path, problems, 0, PORT);
  const max = readInteger(raw, 'max_relay_port', path, problems, 0, PORT);
  if (min === 0 && max === 0) return { min_relay_port: 0, max_relay_port: 0 };
  const range = { min_relay_port: min === 0 ? 1 : min, max_relay_port: max === 0 ? 65535 : max };
  if (range.min_relay_port > range.max_relay_port) {
    problems.error(childPath(path, 'min_relay_port'),
      `must be <= max_relay_port (${range.max_relay_port}), got ${range.min_relay_port}`);
  }
  return range;
}

function readTls(raw: RawObject, protocol: ListenerProtocol, path: string, problems: ProblemSink):
  Pick<ListenerConfig, 'cert' | 'key'> {
  const cert = readString(raw, 'cert', path, problems);
  const key = readString(raw, 'key', path, problems);
  if (!isTlsProtocol(protocol)) {
    if (cert !== '' || key !== '') problems.warn(childPath(path, cert !== '' ? 'cert' : 'key'),
      `ignored for ${protocol} listeners`);
    return { cert: '', key: '' };
  }
  const out = { cert: '', key: '' };
  for (const [field, value, what] of [['cert', cert, 'certificate'], ['key', key, 'private key']] as const) {
    if (value === '') {
      problems.error(childPath(path, field), `required for ${protocol} listeners`);
      continue;
    }
    const decoded = decodePem(value, what);
    if (typeof decoded === 'string') problems.error(childPath(path, field), decoded);
    else out[field] = decoded.pem;
  }
  if (out.cert !== '' && out.key !== '') {
    const bad = checkCertificatePair(out.cert, out.key);
    if (bad.cert !== undefined) problems.error(childPath(path, 'cert'), bad.cert);
    if (bad.key !== undefined) problems.error(childPath(path, 'key'), bad.key);
  }
  return out;
}
