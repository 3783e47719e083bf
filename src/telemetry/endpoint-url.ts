// The admin endpoints as stunnerd writes them: `http://:8080/metrics` = all interfaces, port 8080, path /metrics.
// WHATWG URL rejects an empty host, so this is a small parser of its own (as Go's url.Parse accepts it upstream).
import { isIP } from 'node:net';
import { EndpointError, ENDPOINT_ERROR_CODES } from './errors.ts';

export interface HttpEndpoint {
  /** "" = all interfaces. */
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Equal for two endpoints that must share one server (same interface and port). */
  readonly bindKey: string;
}

const ENDPOINT = /^http:\/\/(\[[^\]]*\]|[^/:?#]*)(?::(\d*))?(\/[^?#]*)?$/i;
const ALL_INTERFACES = new Set(['', '0.0.0.0', '::', '[::]']);

/** Throws `EndpointError` (ERR_ENDPOINT_URL) naming `field`. */
export function parseHttpEndpoint(field: string, value: string, defaults: { port: number; path: string }): HttpEndpoint {
  const m = ENDPOINT.exec(value.trim());
  if (m === null) {
    throw new EndpointError(ENDPOINT_ERROR_CODES.url, field,
      `want http://[host][:port][/path] (e.g. http://:8080/metrics), got ${JSON.stringify(value)}`);
  }
  const rawHost = m[1];
  let host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (ALL_INTERFACES.has(host)) host = '';
  if (rawHost.startsWith('[') && isIP(host) !== 6 && host !== '') {
    throw new EndpointError(ENDPOINT_ERROR_CODES.url, field, `bad IPv6 address ${JSON.stringify(rawHost)}`);
  }
  const port = m[2] === undefined || m[2] === '' ? defaults.port : Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new EndpointError(ENDPOINT_ERROR_CODES.url, field, `port must be 0..65535, got ${m[2]}`);
  }
  const path = m[3] === undefined || m[3] === '/' ? defaults.path : m[3];
  return { host, port, path, bindKey: `${host.toLowerCase()}|${port}` };
}

/** `host:port` for messages, with `*` for all interfaces. */
export function formatBindAddress(e: Pick<HttpEndpoint, 'host' | 'port'>): string {
  const host = e.host === '' ? '*' : isIP(e.host) === 6 ? `[${e.host}]` : e.host;
  return `${host}:${e.port}`;
}
