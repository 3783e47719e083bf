// The metrics and health-check server endpoints, `http://[host][:port][/path]`. Upstream writes
// them with an empty host for "all interfaces" (`http://:8080/metrics`), which WHATWG URL rejects,
// so they are parsed here by hand.

import { isIP } from 'node:net';
import { CONFIG_ERROR_CODES, ConfigError } from './errors.ts';
import { isHostName } from './host-name.ts';

export interface HttpEndpoint {
  /** "" means all interfaces; an IPv6 address is given without brackets. */
  readonly host: string;
  readonly port: number;
  /** Starts with "/". */
  readonly path: string;
}

export interface HttpEndpointDefaults {
  readonly port: number;
  readonly path: string;
}

const ENDPOINT = /^http:\/\/(\[[^\]]*\]|[^/:[\]]*)(?::([^/]*))?(\/.*)?$/i;

/** Why `url` is not a valid endpoint, or undefined when it is. */
export function checkEndpoint(url: string): string | undefined {
  const m = ENDPOINT.exec(url);
  if (m === null) return `must be http://[host][:port][/path], got ${JSON.stringify(url)}`;
  const [, rawHost, rawPort] = m;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (rawHost.startsWith('[') ? isIP(host) !== 6 : host !== '' && isIP(host) === 0 && !isHostName(host)) {
    return `host must be an IP address or host name, got ${JSON.stringify(rawHost)}`;
  }
  if (rawPort !== undefined && rawPort !== '') {
    const port = /^\d+$/.test(rawPort) ? Number(rawPort) : NaN;
    if (!(port >= 1 && port <= 65535)) return `port must be 1..65535, got ${JSON.stringify(rawPort)}`;
  }
  return undefined;
}

/** Splits a metrics or health-check endpoint URL; throws ConfigError (ERR_CONFIG_INVALID) when it is malformed. */
export function parseEndpoint(url: string, defaults: HttpEndpointDefaults, path = ''): HttpEndpoint {
  const problem = checkEndpoint(url);
  if (problem !== undefined) throw new ConfigError(CONFIG_ERROR_CODES.invalid, [{ path, message: problem }]);
  const [, rawHost, rawPort, rawPath] = ENDPOINT.exec(url) as RegExpExecArray;
  return {
    host: rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost,
    port: rawPort === undefined || rawPort === '' ? defaults.port : Number(rawPort),
    path: rawPath ?? defaults.path,
  };
}
