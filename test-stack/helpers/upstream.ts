// Upstream STUNner v1.2.1 as test and bench tools, built by .ci/go-tools.sh from the Go module proxy (.ci/upstream):
// upstream's stunnerd, and cds-harness, upstream's own config discovery server (the code stunner-gateway-operator
// runs) behind a small control API. docs/cds-protocol.md describes the protocol the two speak.
//
//   const cds = await startCdsHarness({ nodeAddresses: { 'node-a': '127.0.0.1' } });
//   const up = await startUpstreamStunnerd({ args: ['-w'], env: { STUNNER_CONFIG_ORIGIN: cds.url, ... }, ready: false });
//   await cds.upsert('default/stunnerd', config);   // watchers get it at once
//   await cds.remove('default/stunnerd');           // watchers get a zero-config
//   await cds.restart();                            // same port, configs upserted again
//
//   const st = await startUpstreamStunnerd({ config });  // -c file://<config>, waits for /ready
//   st.metricsUrl, st.healthUrl, await st.status()
//
// What upstream does that a loopback-only test cannot change: every TURN listener and every relay socket binds the
// wildcard address (`:port`; the listener `address` is only the relay address it advertises), and in -w mode the
// bootstrap config opens the health check on `:8086` until the first config from CDS moves it. The helpers give
// every endpoint they can a free 127.0.0.1 port and stop every process by its PID.
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, waitFor, type Child } from '../../test/deploy/support/child.ts';
import { freeTcpPort } from '../../test/deploy/support/ports.ts';
import { goToolsCache } from './go-tools.ts';

const REPO = join(import.meta.dirname, '..', '..');
const HINT = 'run `bash .ci/go-tools.sh` (npm run test:stack does; it needs Go and the Go module proxy)';

export interface UpstreamTools {
  /** Upstream stunnerd. */
  readonly stunnerd: string;
  /** Upstream turncat. */
  readonly turncat: string;
  /** .ci/upstream/cds-harness. */
  readonly cdsHarness: string;
}

let tools: UpstreamTools | undefined;

/** The binaries built from the current .ci/upstream; throws with the command to run when they are missing or stale. */
export function upstreamTools(): UpstreamTools {
  if (tools !== undefined) return tools;
  const envFile = join(goToolsCache(), 'paths.env');
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch {
    throw new Error(`${envFile} does not exist: upstream stunnerd is not built; ${HINT}`);
  }
  const paths = new Map(text.split('\n').filter((l) => l.includes('='))
    .map((l): [string, string] => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const sum = readFileSync(join(REPO, '.ci/upstream/go.sum'));
  const harnessDir = join(REPO, '.ci/upstream/cds-harness');
  // The same keys as .ci/go-tools.sh: go.sum, and for the harness go.sum then its .go files in byte order.
  const harnessSources = readdirSync(harnessDir).filter((f) => f.endsWith('.go')).sort()
    .map((f) => readFileSync(join(harnessDir, f)));
  const tool = (name: string, key: string): string => {
    const path = paths.get(name);
    if (path === undefined) throw new Error(`${envFile} has no ${name}=; ${HINT}`);
    if (!path.includes(`-${key}/`)) throw new Error(`${path} was built from other .ci/upstream sources; ${HINT}`);
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new Error(`${path} (${name} in ${envFile}) is not an executable; ${HINT}`);
    }
    return path;
  };
  tools = {
    stunnerd: tool('UPSTREAM_STUNNERD', sha12([sum])),
    turncat: tool('UPSTREAM_TURNCAT', sha12([sum])),
    cdsHarness: tool('CDS_HARNESS', sha12([sum, ...harnessSources])),
  };
  return tools;
}

function sha12(parts: readonly Buffer[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 12);
}

/** A stunnerd v1 config as a plain object (the JSON/YAML file's structure). */
export type StunnerConfig = Record<string, unknown>;

/** Admin endpoints on free loopback ports: spread into a config's `admin`. */
export async function loopbackAdmin(): Promise<{ metrics_endpoint: string; healthcheck_endpoint: string }> {
  return {
    metrics_endpoint: `http://127.0.0.1:${await freeTcpPort()}/metrics`,
    healthcheck_endpoint: `http://127.0.0.1:${await freeTcpPort()}`,
  };
}

/** The health-check base URL (`/live`, `/ready`, `/status` below it) a config sets, if any. */
export function healthUrl(config: StunnerConfig): string | undefined {
  const e = (config.admin as Record<string, unknown> | undefined)?.healthcheck_endpoint;
  return typeof e === 'string' && e !== '' ? e.replace(/\/+$/, '') : undefined;
}

/** The metrics URL a config sets, if any (upstream serves `/metrics` when the endpoint has no path). */
export function metricsUrl(config: StunnerConfig): string | undefined {
  const e = (config.admin as Record<string, unknown> | undefined)?.metrics_endpoint;
  if (typeof e !== 'string' || e === '') return undefined;
  return new URL(e).pathname === '/' ? `${e.replace(/\/+$/, '')}/metrics` : e;
}

export interface UpstreamStunnerdOptions {
  /** A config: written to a file and passed as `-c file://<file>` (upstream reads a bare path as a CDS address).
   *  Its admin endpoints default to free loopback ports. */
  readonly config?: StunnerConfig;
  /** Arguments (after `-c` when `config` is given), e.g. `['-w', '--udp-thread-num=16']`. */
  readonly args?: readonly string[];
  /** Environment on top of this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Wait until /ready answers 200 (default: when `config` is given). Without, start() returns once it logs
   *  that it started. */
  readonly ready?: boolean;
}

export interface UpstreamStunnerd {
  readonly child: Child;
  /** The config given, with the endpoints filled in. */
  readonly config: StunnerConfig | undefined;
  /** From `config` (undefined without one: a config from CDS sets its own). */
  readonly healthUrl: string | undefined;
  readonly metricsUrl: string | undefined;
  /** Its log so far. */
  output(): string;
  /** GET <health>/status as JSON (upstream's status body). */
  status(url?: string): Promise<unknown>;
  /** GET the Prometheus text. */
  metrics(url?: string): Promise<string>;
  /** SIGTERM (SIGKILL after `graceMs`) by PID: upstream exits once its allocations are gone. */
  stop(graceMs?: number): Promise<number | string>;
}

export async function startUpstreamStunnerd(o: UpstreamStunnerdOptions): Promise<UpstreamStunnerd> {
  const { stunnerd } = upstreamTools();
  let config: StunnerConfig | undefined;
  let dir: string | undefined;
  const args: string[] = [];
  if (o.config !== undefined) {
    const admin = { ...(o.config.admin as Record<string, unknown> | undefined) };
    const defaults = await loopbackAdmin();
    admin.metrics_endpoint ??= defaults.metrics_endpoint;
    admin.healthcheck_endpoint ??= defaults.healthcheck_endpoint;
    config = { ...o.config, admin };
    dir = mkdtempSync(join(tmpdir(), 'stunner-upstream-'));
    const file = join(dir, 'stunnerd.json');
    writeFileSync(file, JSON.stringify(config, null, 2));
    args.push('-c', `file://${file}`);
  }
  args.push(...(o.args ?? []));
  const child = startChild('upstream-stunnerd', stunnerd, args, { env: { ...process.env, ...o.env } });
  void child.exited.then(() => { if (dir !== undefined) rmSync(dir, { recursive: true, force: true }); });
  const health = config && healthUrl(config);
  const metrics = config && metricsUrl(config);
  const need = (url: string | undefined, what: string): string => {
    if (url === undefined) throw new Error(`upstream stunnerd: no ${what} URL known; pass one`);
    return url;
  };
  const st: UpstreamStunnerd = {
    child,
    config,
    healthUrl: health,
    metricsUrl: metrics,
    output: () => child.output(),
    status: async (url) => (await fetch(`${need(url ?? health, 'health-check')}/status`)).json(),
    metrics: async (url) => (await fetch(need(url ?? metrics, 'metrics'))).text(),
    stop: (graceMs = 10_000) => child.stop(graceMs),
  };
  try {
    if (o.ready ?? config !== undefined) {
      await waitFor('upstream stunnerd /ready', async () => {
        const res = await fetch(`${need(health, 'health-check')}/ready`);
        return res.status === 200 ? true : undefined;
      }, { timeoutMs: 20_000, child });
    } else {
      await waitFor('upstream stunnerd to start', async () => (/Starting stunnerd id/.test(child.output()) ? true : undefined),
        { timeoutMs: 20_000, everyMs: 50, child });
    }
  } catch (err) {
    await child.stop(2000);
    throw err;
  }
  return st;
}

export interface CdsHarnessOptions {
  /** Node name → external IP, for the operator's listener-address patching (`--node-address`). */
  readonly nodeAddresses?: Readonly<Record<string, string>>;
  /** The CDS server's logr verbosity (0-4), logged to the output. */
  readonly verbosity?: number;
}

export interface CdsHarness {
  /** `127.0.0.1:port` of the CDS server (the same across restarts). */
  readonly address: string;
  /** `http://<address>`: a config origin for stunnerd (`-c`, STUNNER_CONFIG_ORIGIN). */
  readonly url: string;
  /** Sets the config of `id` (`<namespace>/<name>`); its watchers get it (unless equal to the current one). */
  upsert(id: string, config: StunnerConfig): Promise<void>;
  /** Removes the config of `id`; its watchers get a zero-config. False when there was none. */
  remove(id: string): Promise<boolean>;
  /** What the server's store holds, by id. */
  configs(): Promise<Record<string, StunnerConfig>>;
  /** The watchers connected now (`tcp:<ip>:<port>`). */
  clients(): Promise<string[]>;
  /** Closes every watcher's connection (a close frame each); the server keeps serving. Resolves with how many. */
  disconnect(): Promise<number>;
  /** Re-sends the configs to the watchers of `node`, as the operator does when a node's address changes. */
  push(node: string): Promise<void>;
  /**
   * Stops the server and starts a new one on the same port: SIGTERM (a close frame to every watcher, as the
   * operator's shutdown) or, with `abrupt`, SIGKILL (connections just drop). The configs set through this object
   * are upserted again unless `keepConfigs` is false, as a restarted operator renders them again; `downMs` is how
   * long the port stays closed in between.
   */
  restart(o?: { abrupt?: boolean; keepConfigs?: boolean; downMs?: number }): Promise<void>;
  /** Its output, of every run. */
  output(): string;
  stop(): Promise<void>;
}

export async function startCdsHarness(o: CdsHarnessOptions = {}): Promise<CdsHarness> {
  const { cdsHarness } = upstreamTools();
  const flags: string[] = ['-v', String(o.verbosity ?? 0)];
  for (const [node, ip] of Object.entries(o.nodeAddresses ?? {})) flags.push('--node-address', `${node}=${ip}`);
  const known = new Map<string, StunnerConfig>();
  let earlier = '';

  const launch = async (cdsAddr: string): Promise<{ child: Child; cds: string; control: string }> => {
    const child = startChild('cds-harness', cdsHarness, [...flags, '--cds-addr', cdsAddr]);
    let line = '';
    child.process.stdout?.on('data', (d: Buffer) => { line += d.toString('utf8'); });
    const started = await waitFor('cds-harness to print its addresses', async () => {
      const nl = line.indexOf('\n');
      return nl < 0 ? undefined : JSON.parse(line.slice(0, nl)) as { cds: string; control: string };
    }, { timeoutMs: 15_000, everyMs: 20, child });
    return { child, ...started };
  };

  let run = await launch('127.0.0.1:0');
  const address = run.cds;
  const control = async (method: string, path: string, body?: string): Promise<Response> => {
    const res = await fetch(`http://${run.control}${path}`, { method, body });
    if (res.status >= 400 && res.status !== 404) {
      throw new Error(`cds-harness ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    }
    return res;
  };
  const stopRun = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const { child } = run;
    if (signal === 'SIGKILL') child.process.kill('SIGKILL');
    const code = await child.stop(5000);
    earlier += `${child.output()}\n[cds-harness exited: ${code}]\n`;
  };

  return {
    address,
    url: `http://${address}`,
    async upsert(id, config) {
      await control('PUT', `/configs/${id}`, JSON.stringify(config));
      known.set(id, config);
    },
    async remove(id) {
      known.delete(id);
      return (await control('DELETE', `/configs/${id}`)).status === 200;
    },
    configs: async () => (await control('GET', '/configs')).json() as Promise<Record<string, StunnerConfig>>,
    clients: async () => (await control('GET', '/clients')).json() as Promise<string[]>,
    disconnect: async () => ((await (await control('POST', '/disconnect')).json()) as { closed: number }).closed,
    async push(node) {
      await control('POST', `/push?node=${encodeURIComponent(node)}`);
    },
    async restart(r = {}) {
      await stopRun(r.abrupt === true ? 'SIGKILL' : 'SIGTERM');
      if ((r.downMs ?? 0) > 0) await new Promise((res) => setTimeout(res, r.downMs));
      run = await launch(address);
      if (r.keepConfigs === false) known.clear();
      for (const [id, config] of known) await control('PUT', `/configs/${id}`, JSON.stringify(config));
    },
    output: () => earlier + run.child.output(),
    stop: () => stopRun('SIGTERM'),
  };
}
