// TURN server URIs, `turn://user:pass@host:port?transport=udp|tcp` and `turns://...`, and the
// config upstream stunnerd runs when given one on the command line (NewDefaultConfig): one listener
// on that address and port, static auth with those credentials, one cluster admitting any peer.

import { isIP } from 'node:net';
import { DEFAULT_HEALTHCHECK_ENDPOINT, DEFAULT_LOGLEVEL, DEFAULT_PORT, DEFAULT_REALM, DEFAULT_TLS_PORT } from './defaults.ts';
import { CONFIG_ERROR_CODES, ConfigError } from './errors.ts';
import { isTlsProtocol } from './rules/listener.ts';
import { selfSignedCertificate, type CertificatePair } from './self-signed.ts';
import type { ListenerProtocol, StunnerConfig } from './types.ts';
import { validateConfig } from './validate.ts';

export interface TurnUri {
  readonly scheme: 'turn' | 'turns';
  readonly protocol: ListenerProtocol;
  /** IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  /** URL-decoded; "" when absent. */
  readonly username: string;
  readonly password: string;
}

/** Names of the objects in the config built from a URI (upstream's). */
export const URI_LISTENER_NAME = 'default-listener';
export const URI_CLUSTER_NAME = 'allow-any';

/**
 * Parses a TURN URI; throws ConfigError (ERR_CONFIG_URI). The RFC 7065 form without "//" is
 * accepted. transport=tls|dtls names the protocol whatever the scheme (upstream); otherwise
 * turn: is TURN-UDP (TURN-TCP with transport=tcp) and turns: is TURN-TLS (TURN-DTLS with
 * transport=udp): RFC 7065 3, where upstream would pick TURN-DTLS for a bare turns:.
 */
export function parseTurnUri(uri: string): TurnUri {
  const m = /^(turns?):(?:\/\/)?(.*)$/i.exec(uri.trim());
  if (m === null) throw uriError(uri, 'scheme must be turn: or turns:');
  const scheme = m[1].toLowerCase() as 'turn' | 'turns';
  let url: URL;
  try {
    url = new URL(`${scheme}://${m[2]}`);
  } catch {
    throw uriError(uri, 'must be turn[s]://[user:pass@]host[:port][?transport=udp|tcp]');
  }
  if (url.pathname !== '' && url.pathname !== '/') throw uriError(uri, `unexpected path ${JSON.stringify(url.pathname)}`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw uriError(uri, 'host is required');

  const transport = (url.searchParams.get('transport') ?? '').toLowerCase();
  const protocol = protocolFor(scheme, transport);
  if (protocol === undefined) throw uriError(uri, `transport must be udp, tcp, tls or dtls, got ${JSON.stringify(transport)}`);
  const port = url.port === '' ? (isTlsProtocol(protocol) ? DEFAULT_TLS_PORT : DEFAULT_PORT) : Number(url.port);
  if (port < 1) throw uriError(uri, 'port must be 1..65535');
  try {
    return { scheme, protocol, host, port, username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  } catch {
    throw uriError(uri, 'user or password is not valid percent-encoding');
  }
}

function protocolFor(scheme: 'turn' | 'turns', transport: string): ListenerProtocol | undefined {
  switch (transport) {
    case 'tls': return 'TURN-TLS';
    case 'dtls': return 'TURN-DTLS';
    case 'udp': return scheme === 'turn' ? 'TURN-UDP' : 'TURN-DTLS';
    case 'tcp': return scheme === 'turn' ? 'TURN-TCP' : 'TURN-TLS';
    case '': return scheme === 'turn' ? 'TURN-UDP' : 'TURN-TLS';
    default: return undefined;
  }
}

/**
 * The config upstream stunnerd builds from a URI: listener `default-listener` on the URI's address
 * and port, static auth with its credentials, cluster `allow-any` (0.0.0.0/0, and ::/0 for an IPv6
 * listener), health checks on, metrics off. A TLS/DTLS listener without `tls` gets a fresh
 * self-signed certificate, as upstream's.
 */
export function defaultConfigFromUri(uri: string, tls?: CertificatePair): StunnerConfig {
  const u = parseTurnUri(uri);
  if (u.username === '' || u.password === '') throw uriError(uri, 'user and password must be set');
  const address = u.host === 'localhost' ? '127.0.0.1' : u.host;
  if (isIP(address) === 0) throw uriError(uri, `host must be an IP address, got ${JSON.stringify(u.host)}`);
  const pair = isTlsProtocol(u.protocol) ? tls ?? selfSignedCertificate(address) : undefined;
  return validateConfig({
    version: 'v1',
    admin: { loglevel: DEFAULT_LOGLEVEL, healthcheck_endpoint: DEFAULT_HEALTHCHECK_ENDPOINT },
    auth: { type: 'static', realm: DEFAULT_REALM, credentials: { username: u.username, password: u.password } },
    listeners: [{
      name: URI_LISTENER_NAME, protocol: u.protocol, address, port: u.port, routes: [URI_CLUSTER_NAME],
      ...(pair === undefined ? {} : { cert: pair.cert, key: pair.key }),
    }],
    clusters: [{ name: URI_CLUSTER_NAME, type: 'STATIC', endpoints: isIP(address) === 6 ? ['0.0.0.0/0', '::/0'] : ['0.0.0.0/0'] }],
  });
}

/** Errors quote the URI with its password hidden: they end up in logs. */
function uriError(uri: string, message: string): ConfigError {
  const shown = uri.replace(/(\/\/[^:@/]*:)[^@/]*@/, '$1<redacted>@');
  return new ConfigError(CONFIG_ERROR_CODES.uri, [{ path: '', message: `invalid TURN URI ${JSON.stringify(shown)}: ${message}` }]);
}
