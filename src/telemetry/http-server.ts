// The admin HTTP servers (metrics, health). Endpoints on the same interface and port share one server; applying
// a new set of endpoints closes only servers whose address is no longer wanted, opens only new addresses, and
// swaps routes in place on the rest, so a reconfiguration restarts only the server whose endpoint changed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EndpointError, ENDPOINT_ERROR_CODES } from './errors.ts';
import { formatBindAddress, type HttpEndpoint } from './endpoint-url.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Binding {
  /** The config field the endpoint came from, for errors: `admin.metrics_endpoint`. */
  readonly field: string;
  readonly endpoint: HttpEndpoint;
  /** Exact path -> handler. */
  readonly routes: ReadonlyMap<string, RouteHandler>;
}

/** A scraper or probe needs a handful; the cap bounds what a misbehaving client can hold open. */
const MAX_CONNECTIONS = 64;
/** In-flight responses get this long when a server is closed by a reconfiguration or shutdown. */
const CLOSE_GRACE_MS = 2000;

class AdminServer {
  readonly endpoint: HttpEndpoint;
  routes: ReadonlyMap<string, RouteHandler>;
  fields: readonly string[];
  readonly server: Server;

  constructor(endpoint: HttpEndpoint, routes: ReadonlyMap<string, RouteHandler>, fields: readonly string[],
    onError: (err: Error) => void) {
    this.endpoint = endpoint;
    this.routes = routes;
    this.fields = fields;
    this.server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
      (req, res) => this.#dispatch(req, res));
    this.server.maxConnections = MAX_CONNECTIONS;
    this.server.on('clientError', (_err, socket) => socket.destroy());
    this.server.on('error', onError);
  }

  #dispatch(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const handler = this.routes.get(q < 0 ? url : url.slice(0, q));
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    } else {
      try {
        handler(req, res);
      } catch (err) {
        // A throwing StatusSource must cost one 500, not the process.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`internal error: ${(err as Error).message}\n`);
      }
    }
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => reject(err);
      this.server.once('error', fail);
      const { host, port } = this.endpoint;
      this.server.listen(host === '' ? { port } : { host, port }, () => {
        this.server.off('error', fail);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      const force = setTimeout(() => this.server.closeAllConnections(), CLOSE_GRACE_MS);
      force.unref();
      this.server.close(() => {
        clearTimeout(force);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }
}

export class AdminServers {
  readonly #servers = new Map<string, AdminServer>();
  readonly #onError: (err: Error) => void;

  /** `onError`: errors of a server after it started listening (rare; logged, never thrown). */
  constructor(onError: (err: Error) => void) {
    this.#onError = onError;
  }

  /**
   * Makes the running servers match `bindings`. Never throws for a bind failure: returns one EndpointError
   * (ERR_ENDPOINT_BIND) per affected field, and the next `apply` with the same endpoint tries again.
   */
  async apply(bindings: readonly Binding[]): Promise<EndpointError[]> {
    const wanted = new Map<string, { endpoint: HttpEndpoint; routes: Map<string, RouteHandler>; fields: string[] }>();
    for (const b of bindings) {
      let w = wanted.get(b.endpoint.bindKey);
      if (w === undefined) {
        w = { endpoint: b.endpoint, routes: new Map(), fields: [] };
        wanted.set(b.endpoint.bindKey, w);
      }
      for (const [path, handler] of b.routes) w.routes.set(path, handler);
      w.fields.push(b.field);
    }
    const closing: Promise<void>[] = [];
    for (const [key, s] of this.#servers) {
      if (!wanted.has(key)) {
        this.#servers.delete(key);
        closing.push(s.close());
      }
    }
    await Promise.all(closing);

    const errors: EndpointError[] = [];
    for (const [key, w] of wanted) {
      const running = this.#servers.get(key);
      if (running !== undefined) {
        running.routes = w.routes;
        running.fields = w.fields;
        continue;
      }
      const s = new AdminServer(w.endpoint, w.routes, w.fields, this.#onError);
      try {
        await s.listen();
        this.#servers.set(key, s);
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        for (const field of w.fields) {
          errors.push(new EndpointError(ENDPOINT_ERROR_CODES.bind, field,
            `cannot listen on ${formatBindAddress(w.endpoint)}: ${reason}`, { cause: err }));
        }
      }
    }
    return errors;
  }

  /** The bound address of the server serving `field` (resolves port 0), if it is running. */
  address(field: string): AddressInfo | undefined {
    for (const s of this.#servers.values()) {
      if (s.fields.includes(field)) return s.server.address() as AddressInfo;
    }
    return undefined;
  }

  /** How many servers are listening (tests: one shared server for equal host:port). */
  get size(): number {
    return this.#servers.size;
  }

  async close(): Promise<void> {
    const all = [...this.#servers.values()];
    this.#servers.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}
