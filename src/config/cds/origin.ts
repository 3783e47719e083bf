// Where stunnerd's config comes from: `-c` / STUNNER_CONFIG_ORIGIN, read as upstream stunnerd v1.2.1 reads it
// (docs/cds-protocol.md, "Config origin"), except that a bare path is a file here, as it always was.

/** The operator's Config Discovery Service port, and the origin upstream dials when none is given. */
export const DEFAULT_CDS_PORT = 13478;
export const DEFAULT_CDS_ORIGIN = `:${DEFAULT_CDS_PORT}`;
/** `-c k8s`: find the CDS server through the Kubernetes API. */
export const K8S_ORIGIN = 'k8s';

export type ConfigOrigin =
  | { readonly kind: 'cds'; readonly url: URL }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'k8s' };

export class ConfigOriginError extends Error {
  readonly code = 'ERR_CONFIG_ORIGIN';
}

const CDS_SCHEMES = ['http:', 'https:', 'ws:', 'wss:'];
/** `IP:port`, `[v6]:port`, `host:port` or `:port`: what upstream turns into `http://…`. */
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]*):\d{1,5}$/;

/**
 * An origin string as a CDS URL, a file or `k8s`. Upstream prefixes everything that has no scheme with
 * `http://`, which makes `/etc/stunnerd.conf` a CDS address; here a string is a CDS address only when it has
 * an http(s)/ws(s) scheme or is `host:port`, and anything else is a file path (`file://` stripped).
 */
export function parseConfigOrigin(origin: string): ConfigOrigin {
  const s = origin.trim();
  if (s === '') throw new ConfigOriginError('config origin: empty');
  if (s === K8S_ORIGIN) return { kind: 'k8s' };
  if (s.startsWith('file://')) {
    const path = s.slice('file://'.length);
    if (path === '') throw new ConfigOriginError(`config origin "${origin}": no file path after file://`);
    return { kind: 'file', path };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(s)?.[1]?.toLowerCase();
  if (scheme !== undefined || HOST_PORT.test(s)) {
    let url: URL;
    try {
      // An empty host (`:13478`) dials this host, as Go's dialer does.
      url = new URL(scheme === undefined ? `http://${s.startsWith(':') ? `127.0.0.1${s}` : s}` : s);
    } catch {
      throw new ConfigOriginError(`config origin "${origin}": not a valid URL`);
    }
    if (!CDS_SCHEMES.includes(url.protocol)) {
      throw new ConfigOriginError(`config origin "${origin}": want http://, https://, ws://, wss:// or file://, ` +
        `host:port, k8s or a file path`);
    }
    return { kind: 'cds', url };
  }
  return { kind: 'file', path: s };
}

/** What stunnerd asks the CDS server for: the config of `<namespace>/<name>`, patched for `node`. */
export interface CdsTarget {
  readonly namespace: string;
  readonly name: string;
  /** STUNNER_NODENAME; "" = none. */
  readonly node: string;
}

export interface CdsEndpoints {
  /** The one-shot GET. */
  readonly get: URL;
  /** The watch: the same path as a WebSocket with `watch=true`. */
  readonly watch: URL;
  /** Sent on the upgrade as upstream does; gorilla's origin check wants it to name the host:port dialled. */
  readonly originHeader: string;
}

/**
 * The config endpoint on the origin's host and port. As upstream, the one-shot GET keeps a path of the origin as
 * a prefix (its API client takes the origin as the server's base URL) while the watch drops it. Upstream watches
 * over `ws://` even for an `https://` origin, which cannot work against a TLS server; here an https/wss origin is
 * watched over `wss://`.
 */
export function cdsEndpoints(origin: URL, target: CdsTarget): CdsEndpoints {
  const tls = origin.protocol === 'https:' || origin.protocol === 'wss:';
  const path = `/api/v1/configs/${encodeURIComponent(target.namespace)}/${encodeURIComponent(target.name)}`;
  const prefix = origin.pathname.replace(/\/+$/, '');
  const get = new URL(`${tls ? 'https' : 'http'}://${origin.host}${prefix}${path}`);
  const watch = new URL(`${tls ? 'wss' : 'ws'}://${origin.host}${path}`);
  // Sorted by name, as Go's url.Values.Encode() writes them.
  if (target.node !== '') {
    get.searchParams.set('node', target.node);
    watch.searchParams.set('node', target.node);
  }
  watch.searchParams.set('watch', 'true');
  return { get, watch, originHeader: `http://${origin.host}` };
}
