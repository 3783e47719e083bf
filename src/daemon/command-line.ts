// stunnerd's command line: every flag of upstream stunnerd v1.2.1 (its own, the Kubernetes client flags of
// genericclioptions and the CDS discovery flags), plus ours, resolved with the environment into what to run.
// Pure: argv, environment and host name in; an Invocation out.
import { DEFAULT_CDS_ORIGIN, DEFAULT_CDS_PORT, K8S_ORIGIN, parseConfigOrigin, ConfigOriginError } from '../config/cds/origin.ts';
import { ENV_CONFIG_ORIGIN, ENV_NODE_NAME, resolveInstanceId } from '../config/cds/instance-id.ts';
import type { Environment } from '../config/env.ts';
import { FlagError, parseFlags, type FlagSpec, type FlagValue } from '../cmd/pflag.ts';
import type { LogFormat } from '../log/logger.ts';

/** Where upstream's NewCDSConfigFlags reads its defaults. */
const ENV_CDS_ADDR = 'CDS_SERVER_ADDR';
const ENV_CDS_PORT = 'CDS_SERVER_PORT';
/** Ours: the health endpoint of the bootstrap zero-config (upstream: always http://:8086). */
export const ENV_BOOTSTRAP_HEALTHCHECK = 'STUNNERD_BOOTSTRAP_HEALTHCHECK_ENDPOINT';

/** The Kubernetes client flags upstream registers (k8s.io/cli-runtime v0.35 genericclioptions.ConfigFlags). */
const K8S_FLAGS: readonly FlagSpec[] = [
  ...['kubeconfig', 'cache-dir', 'client-certificate', 'client-key', 'token', 'as', 'as-uid', 'username', 'password',
    'cluster', 'user', 'context', 'tls-server-name', 'certificate-authority', 'request-timeout']
    .map((name) => ({ name, type: 'string' as const })),
  { name: 'namespace', short: 'n', type: 'string' },
  { name: 'server', short: 's', type: 'string' },
  { name: 'as-group', type: 'stringArray' },
  { name: 'as-user-extra', type: 'stringArray' },
  { name: 'insecure-skip-tls-verify', type: 'bool' },
  { name: 'disable-compression', type: 'bool' },
];

export const STUNNERD_FLAGS: readonly FlagSpec[] = [
  { name: 'config', short: 'c', type: 'string' },
  { name: 'log', short: 'l', type: 'string' },
  { name: 'log-format', type: 'string' },
  { name: 'id', short: 'i', type: 'string' },
  { name: 'watch', short: 'w', type: 'bool' },
  { name: 'udp-thread-num', short: 'u', type: 'int' },
  { name: 'dry-run', short: 'd', type: 'bool' },
  { name: 'force-ready-status', type: 'bool' },
  { name: 'verbose', short: 'v', type: 'bool' },
  ...K8S_FLAGS,
  { name: 'cds-server-address', type: 'string' },
  { name: 'cds-server-namespace', type: 'string' },
  { name: 'cds-server-port', type: 'int' },
  // ours
  { name: 'drain-timeout', type: 'string' },
  { name: 'drain-mode', type: 'string' },
  { name: 'help', short: 'h', type: 'bool' },
  { name: 'version', type: 'bool' },
];

/**
 * accept: upstream's graceful shutdown (/ready fails, new allocations are still accepted, exit when the last
 * ends); refuse: ours (new Allocates answered 486).
 */
export type DrainMode = 'accept' | 'refuse';

export type ConfigSource =
  | { readonly kind: 'demo' }
  | { readonly kind: 'uri'; readonly uri: string }
  | { readonly kind: 'file'; readonly path: string; readonly watch: boolean }
  | { readonly kind: 'cds'; readonly url: URL; readonly watch: boolean };

export interface Invocation {
  readonly help: boolean;
  readonly version: boolean;
  readonly source: ConfigSource;
  /** -i, STUNNER_NAMESPACE/STUNNER_NAME or default/stunnerd-<hostname>. */
  readonly id: string;
  /** STUNNER_NODENAME; "" = none. */
  readonly node: string;
  /** -l, or all:DEBUG with -v; undefined = admin.loglevel. */
  readonly logLevel: string | undefined;
  readonly logFormat: LogFormat;
  /** -u as given (undefined = our default, the CPUs). */
  readonly udpThreadNum: number | undefined;
  readonly dryRun: boolean;
  readonly forceReady: boolean;
  readonly drainMode: DrainMode;
  readonly drainTimeoutS: number | undefined;
  /** Health endpoint of the bootstrap zero-config (-w with a CDS origin). */
  readonly bootstrapHealthcheck: string | undefined;
  /** One line per group of flags that were accepted but have no effect here, to log once at startup. */
  readonly notes: readonly string[];
}

export function resolveCommandLine(argv: readonly string[], env: Environment, hostname: string): Invocation {
  const { values, positionals } = parseFlags(argv, STUNNERD_FLAGS);
  const str = (name: string): string | undefined => values.get(name) as string | undefined;
  const bool = (name: string): boolean => values.get(name) === true;
  const notes: string[] = [];

  const logFormat = str('log-format') ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new FlagError(`--log-format: want text or json, got "${logFormat}"`);
  const level = str('log');
  const logLevel = level !== undefined && level !== '' ? level : bool('verbose') ? 'all:DEBUG' : undefined;

  const udp = values.get('udp-thread-num') as number | undefined;
  if (udp !== undefined && (udp < 0 || udp > 1024)) throw new FlagError(`--udp-thread-num: want 0..1024, got ${udp}`);

  let drainTimeoutS: number | undefined;
  const drainTimeout = str('drain-timeout');
  if (drainTimeout !== undefined) {
    drainTimeoutS = Number(drainTimeout);
    if (drainTimeout.trim() === '' || !Number.isFinite(drainTimeoutS) || drainTimeoutS < 0) {
      throw new FlagError(`--drain-timeout: want seconds >= 0, got "${drainTimeout}"`);
    }
  }
  const drainModeFlag = str('drain-mode');
  if (drainModeFlag !== undefined && drainModeFlag !== 'accept' && drainModeFlag !== 'refuse') {
    throw new FlagError(`--drain-mode: want accept or refuse, got "${drainModeFlag}"`);
  }

  if (positionals.length > 1) throw new FlagError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  const watch = bool('watch');
  const source = configSource(positionals[0], str('config'), watch, env, values, notes);

  const k8sGiven = K8S_FLAGS.filter((f) => values.has(f.name)).map((f) => `--${f.name}`);
  if (values.has('cds-server-namespace')) k8sGiven.push('--cds-server-namespace');
  if (k8sGiven.length > 0) {
    notes.push(`${k8sGiven.join(', ')}: accepted, no effect here (Kubernetes API discovery of the CDS server is not ` +
      'available; give the CDS address with -c or STUNNER_CONFIG_ORIGIN)');
  }

  return {
    help: bool('help'),
    version: bool('version'),
    source,
    id: resolveInstanceId(str('id'), env, hostname),
    node: env[ENV_NODE_NAME] ?? '',
    logLevel,
    logFormat,
    udpThreadNum: udp,
    dryRun: bool('dry-run'),
    forceReady: bool('force-ready-status'),
    drainMode: (drainModeFlag as DrainMode | undefined) ?? (source.kind === 'cds' ? 'accept' : 'refuse'),
    drainTimeoutS,
    bootstrapHealthcheck: env[ENV_BOOTSTRAP_HEALTHCHECK],
    notes,
  };
}

/**
 * Upstream: a turn:// URI argument wins; otherwise the origin is -c, else STUNNER_CONFIG_ORIGIN, else :13478.
 * Ours differs in one case: with no URI, no -c, no STUNNER_CONFIG_ORIGIN and no -w, the local demo config runs
 * (upstream would ask a CDS server on this host once).
 */
function configSource(uri: string | undefined, flag: string | undefined, watch: boolean, env: Environment,
  values: ReadonlyMap<string, FlagValue>, notes: string[]): ConfigSource {
  if (uri !== undefined) {
    if (flag !== undefined || watch) notes.push('a turn:// URI argument is given: -c and -w are ignored, as upstream does');
    return { kind: 'uri', uri };
  }
  const envOrigin = env[ENV_CONFIG_ORIGIN];
  let origin = flag !== undefined && flag !== '' ? flag : envOrigin;
  if (origin === undefined) {
    if (!watch) return { kind: 'demo' };
    origin = DEFAULT_CDS_ORIGIN;
  }
  let parsed = parseConfigOrigin(origin);
  if (parsed.kind === 'k8s') {
    parsed = parseConfigOrigin(k8sCdsAddress(values, env));
  } else if (values.has('cds-server-address') || values.has('cds-server-port')) {
    notes.push(`--cds-server-address, --cds-server-port: accepted, no effect without -c ${K8S_ORIGIN} (as upstream)`);
  }
  if (parsed.kind === 'file') return { kind: 'file', path: parsed.path, watch };
  if (parsed.kind === 'cds') return { kind: 'cds', url: parsed.url, watch };
  throw new ConfigOriginError('unreachable');
}

/**
 * `-c k8s`: upstream looks the CDS server up through the Kubernetes API and port-forwards to it, unless
 * --cds-server-address (CDS_SERVER_ADDR) names it; only that short-cut is available here.
 */
function k8sCdsAddress(values: ReadonlyMap<string, FlagValue>, env: Environment): string {
  const addr = (values.get('cds-server-address') as string | undefined) ?? env[ENV_CDS_ADDR] ?? '';
  if (addr === '') {
    throw new ConfigOriginError(`-c ${K8S_ORIGIN}: discovering the CDS server through the Kubernetes API is not ` +
      `available here; give its address with --cds-server-address (or ${ENV_CDS_ADDR}), or the origin itself with ` +
      `-c http://<address>:${DEFAULT_CDS_PORT} (or ${ENV_CONFIG_ORIGIN})`);
  }
  // Upstream reads CDS_SERVER_PORT through a bug that discards it; a valid number is honoured here.
  const envPort = env[ENV_CDS_PORT];
  const port = (values.get('cds-server-port') as number | undefined) ??
    (envPort !== undefined && /^\d+$/.test(envPort) ? Number(envPort) : DEFAULT_CDS_PORT);
  return `${addr.includes(':') && !addr.startsWith('[') ? `[${addr}]` : addr}:${port}`;
}
