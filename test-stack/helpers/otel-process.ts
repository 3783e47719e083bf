// A collector-style Go process (otelcol-stunner, Jaeger v2: both take `--config` files that they merge) run by a
// test on loopback: every server of its configuration moved to a free 127.0.0.1 port, its own telemetry
// included, so that nothing listens on a fixed or public port and several can run at once. Stopped by its PID.
//
// Servers found: every `endpoint` under `extensions` and `receivers` (the OTLP receiver's protocols, health
// checks, Jaeger's query API), the `endpoint` of `prometheus` exporters, and service.telemetry's metrics. A server
// configured without an explicit `endpoint` keeps its default address.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { startChild, waitFor } from '../../test/deploy/support/child.ts';
import type { Child } from '../../test/deploy/support/child.ts';
import { freeTcpPort } from '../../test/deploy/support/ports.ts';

const REPO = join(import.meta.dirname, '..', '..');

type Config = Record<string, unknown>;

export interface OtelProcessOptions {
  /** The configuration: a YAML file (relative to the repository, e.g. otel-collector/otlp-to-mimir.yaml) or YAML text. */
  readonly config: { readonly file: string } | { readonly yaml: string };
  /** Merged over `config` in order, as the process merges its --config files: maps merge, lists are replaced. */
  readonly overrides?: readonly Config[];
  /** Environment on top of this process's (the `${env:NAME}` the configuration reads). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Whether a started process serves yet. */
export type ReadyCheck = (p: OtelProcess) => Promise<boolean>;

export class OtelProcess {
  readonly name: string;
  /** `127.0.0.1:port` of every server, by the path of the configuration object holding its endpoint;
   *  'service.telemetry.metrics' is the process's own Prometheus endpoint (`/metrics`). */
  readonly endpoints: ReadonlyMap<string, string>;
  private readonly bin: string;
  private readonly args: readonly string[];
  private readonly files: ReadonlyMap<string, string>;
  private readonly env: NodeJS.ProcessEnv;
  private readonly ready: ReadyCheck;
  private dir = '';
  private current: Child | undefined;
  private earlier = '';

  private constructor(o: { name: string; bin: string; args: readonly string[]; files: ReadonlyMap<string, string>;
    env: NodeJS.ProcessEnv; endpoints: ReadonlyMap<string, string>; ready: ReadyCheck; }) {
    this.name = o.name;
    this.bin = o.bin;
    this.args = o.args;
    this.files = o.files;
    this.env = o.env;
    this.endpoints = o.endpoints;
    this.ready = o.ready;
  }

  /**
   * Starts `bin [args] --config <config> [--config <override>]... --config <ports>` and resolves once `ready`
   * says it serves (it fails with the process's output when the process exits first or 60 s pass).
   */
  static async start(name: string, bin: string, args: readonly string[], o: OtelProcessOptions,
    ready: ReadyCheck): Promise<OtelProcess> {
    const base = 'file' in o.config ? YAML.parse(readText(o.config.file)) as Config : YAML.parse(o.config.yaml) as Config;
    const overrides = o.overrides ?? [];
    const endpoints = new Map<string, string>();
    const ports: Config = {};
    for (const path of serverPaths(overrides.reduce(merge, base))) {
      const address = `127.0.0.1:${await freeTcpPort()}`;
      endpoints.set(path.join('.'), address);
      setIn(ports, [...path, 'endpoint'], address);
    }
    const telemetryPort = await freeTcpPort();
    endpoints.set('service.telemetry.metrics', `127.0.0.1:${telemetryPort}`);
    setIn(ports, ['service', 'telemetry', 'metrics', 'readers'],
      [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: telemetryPort } } } }]);

    const files = new Map<string, string>([
      ['config.yaml', 'file' in o.config ? readText(o.config.file) : o.config.yaml],
      ...overrides.map((c, i): [string, string] => [`override-${i}.yaml`, YAML.stringify(c)]),
      ['ports.yaml', YAML.stringify(ports)],
    ]);
    const p = new OtelProcess({ name, bin, args, files, endpoints, ready, env: { ...process.env, ...o.env } });
    await p.restart();
    return p;
  }

  /** The address of the server at `path` ('receivers.otlp.protocols.http', 'extensions.health_check', ...). */
  endpoint(path: string): string {
    const address = this.endpoints.get(path);
    if (address === undefined) {
      throw new Error(`${this.name} has no server at ${path}; its servers: ${[...this.endpoints.keys()].join(', ')}`);
    }
    return address;
  }

  /** The OTLP/HTTP receiver's base URL (append /v1/metrics, /v1/traces): OTEL_EXPORTER_OTLP_ENDPOINT for a sender. */
  get otlpHttpUrl(): string {
    return `http://${this.endpoint('receivers.otlp.protocols.http')}`;
  }

  /** The OTLP/gRPC receiver's `host:port`. */
  get otlpGrpcEndpoint(): string {
    return this.endpoint('receivers.otlp.protocols.grpc');
  }

  /** The running process (the latest one after a restart). */
  get child(): Child {
    if (this.current === undefined) throw new Error(`${this.name} is not running`);
    return this.current;
  }

  /** Its stdout and stderr, of every run since start. */
  output(): string {
    return this.earlier + (this.current?.output() ?? '');
  }

  /** Starts the process again with the same configuration and ports (after stop()), and waits until it serves. */
  async restart(): Promise<void> {
    if (this.current !== undefined) throw new Error(`${this.name} is running: stop() it first`);
    this.dir = mkdtempSync(join(tmpdir(), `stunner-${this.name}-`));
    const configArgs: string[] = [];
    for (const [file, text] of this.files) {
      writeFileSync(join(this.dir, file), text);
      configArgs.push('--config', join(this.dir, file));
    }
    const child = startChild(this.name, this.bin, [...this.args, ...configArgs], { env: this.env });
    this.current = child;
    try {
      await waitFor(`${this.name} to serve`, async () => ((await this.ready(this)) ? true : undefined),
        { timeoutMs: 60_000, everyMs: 200, child });
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** SIGTERM (SIGKILL after 10 s) by PID; resolves with the exit code. Nothing to do when it is not running. */
  async stop(): Promise<number | string | undefined> {
    const child = this.current;
    if (child === undefined) return undefined;
    const code = await child.stop(10_000);
    this.earlier += `${child.output()}\n[${this.name} exited: ${code}]\n`;
    this.current = undefined;
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

/** A configuration file, relative to the repository or absolute. */
function readText(file: string): string {
  return readFileSync(resolve(REPO, file), 'utf8');
}

/** The paths of the configuration objects that hold a server's `endpoint`. */
function serverPaths(config: Config): string[][] {
  const out: string[][] = [];
  const walk = (node: unknown, path: string[]): void => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'endpoint' && typeof v === 'string') out.push(path);
      else walk(v, [...path, k]);
    }
  };
  walk(config.extensions, ['extensions']);
  walk(config.receivers, ['receivers']);
  for (const [name, exporter] of Object.entries((config.exporters ?? {}) as Config)) {
    if (name.split('/')[0] === 'prometheus') walk(exporter, ['exporters', name]);
  }
  return out;
}

function isMap(v: unknown): v is Config {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `over` merged into `base` as the collector merges configurations: maps key by key, anything else replaced. */
function merge(base: Config, over: Config): Config {
  const out: Config = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMap(v) && isMap(out[k]) ? merge(out[k], v) : v;
  return out;
}

function setIn(target: Config, path: readonly string[], value: unknown): void {
  let node = target;
  for (const k of path.slice(0, -1)) {
    if (!isMap(node[k])) node[k] = {};
    node = node[k] as Config;
  }
  node[path.at(-1)!] = value;
}
