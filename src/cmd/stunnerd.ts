#!/usr/bin/env node
// stunnerd: the gateway daemon. This file only turns the command line into a daemon run; src/daemon does the work.
import { hostname } from 'node:os';
import { Daemon } from '../daemon/daemon.ts';
import { builtinConfig } from '../daemon/builtin-config.ts';
import { CdsConfigSource, loadFromCds } from '../daemon/cds-source.ts';
import { ENV_BOOTSTRAP_HEALTHCHECK, resolveCommandLine, type Invocation } from '../daemon/command-line.ts';
import { renderCommand } from '../daemon/render-command.ts';
import { splitInstanceId } from '../config/cds/instance-id.ts';
import { zeroConfig } from '../config/cds/zero-config.ts';
import { validateConfig } from '../config/validate.ts';
import type { StunnerConfig } from '../config/types.ts';
import { defaultWorkerCount } from '../dataplane/threads.ts';
import { PACKAGE_VERSION } from '../telemetry/version.ts';

const HELP = `Usage: stunnerd [options] [turn://user:pass@addr:port]
       stunnerd render -c FILE [--output yaml|json]

The STUNner dataplane daemon: a TURN media gateway with OpenTelemetry metrics. The command line is upstream
stunnerd's (v1.2.1), so the operator's Dataplane (stunnerd -w --udp-thread-num=16) runs it unchanged.

Options:
  -c, --config ORIGIN        where the config comes from (default: STUNNER_CONFIG_ORIGIN): a file (a path or
                             file://PATH; stunnerd v1 JSON/YAML or Kubernetes resources to render), a config
                             discovery server (IP:port or http(s)://host:port), or k8s (with --cds-server-address)
  -w, --watch                follow the config: reload when the file changes (and on SIGHUP), or watch the
                             config discovery server; without -c and STUNNER_CONFIG_ORIGIN, the server at :13478
  -i, --id NAMESPACE/NAME    the config to ask the discovery server for (default: STUNNER_NAMESPACE/STUNNER_NAME,
                             else default/stunnerd-<hostname>); STUNNER_NODENAME is sent as the node
  -l, --log LEVELS           log levels, scope:LEVEL[,scope:LEVEL] (default: admin.loglevel, else all:INFO)
  -v, --verbose              same as -l all:DEBUG
      --log-format FORMAT    text (default) or json
  -u, --udp-thread-num N     dataplane worker threads, each serving every listener on the same ports
                             (SO_REUSEPORT), at most one per CPU this process may use (cgroup CPU quota
                             included; here ${defaultWorkerCount()}, also the default); 1 or 0 = the main thread only
  -d, --dry-run              validate configs, bind nothing (no listener, no metrics or health server)
      --force-ready-status   /ready answers 200 even while draining (upstream's kube-proxy work-around)
      --drain-mode MODE      on SIGTERM: accept (upstream's: new allocations still accepted; the default with
                             a config discovery server) or refuse (new Allocates answered 486; the default
                             otherwise)
      --drain-timeout SEC    how long a drain waits for allocations to end (default: admin.limits.drain_timeout)
      --cds-server-address ADDR, --cds-server-port PORT
                             with -c k8s: the config discovery server (CDS_SERVER_ADDR, CDS_SERVER_PORT)
  -h, --help                 this help
      --version              print the version

Accepted for upstream compatibility, without effect (logged once): the Kubernetes client flags (--kubeconfig,
--context, -n/--namespace, -s/--server, --token, ...) and --cds-server-namespace.

Without -c, STUNNER_CONFIG_ORIGIN or -w, a URI sets up one listener and an allow-any cluster, as upstream
stunnerd; with none of them, a local demo config runs on 127.0.0.1:3478 (user1/passwd1) with metrics at
http://127.0.0.1:8080/metrics. With -w and a config discovery server, stunnerd starts on a zero-config (health
at http://:8086, or ${ENV_BOOTSTRAP_HEALTHCHECK}; /ready fails) until the first config arrives.
Signals: SIGHUP reloads a file; SIGTERM drains (a second one exits at once); SIGINT drains in accept mode and
exits at once in refuse mode.`;

function fail(msg: string): never {
  process.stderr.write(`stunnerd: ${msg}\n`);
  process.exit(1);
}

/** The first config: from a file (the daemon loads it), a URI, the demo, the zero-config, or a CDS GET. */
async function initialConfig(inv: Invocation, env: NodeJS.ProcessEnv): Promise<StunnerConfig | undefined> {
  const s = inv.source;
  switch (s.kind) {
    case 'file': return undefined;
    case 'demo': return builtinConfig(undefined);
    case 'uri': return builtinConfig(s.uri);
    case 'cds': {
      // Checked first, so that a malformed id fails before anything is bound (upstream exits 1 too).
      const target = cdsTarget(inv);
      if (!s.watch) return (await loadFromCds(s.url, target, env)).config;
      const zero = zeroConfig(inv.id);
      if (inv.bootstrapHealthcheck === undefined) return zero;
      return validateConfig({ ...zero, admin: { name: inv.id, healthcheck_endpoint: inv.bootstrapHealthcheck } });
    }
  }
}

function cdsTarget(inv: Invocation): { namespace: string; name: string; node: string } {
  const parts = splitInstanceId(inv.id);
  if (parts === undefined) throw new Error(`invalid id "${inv.id}": want <namespace>/<name> (-i, or STUNNER_NAMESPACE and STUNNER_NAME)`);
  return { ...parts, node: inv.node };
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'render') {
    process.exitCode = await renderCommand(argv.slice(1));
    return;
  }
  const env = process.env;
  let inv: Invocation;
  try {
    inv = resolveCommandLine(argv, env, hostname());
  } catch (err) {
    fail(`${(err as Error).message}\n\n${HELP}`);
  }
  if (inv.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (inv.version) {
    process.stdout.write(`stunnerd ${PACKAGE_VERSION} (node ${process.version})\n`);
    return;
  }
  // Upstream's 0 disables multithreading. More workers than CPUs cannot run at once (upstream's 16 readloops run
  // on GOMAXPROCS = the CPUs too) and each costs a V8 heap: the operator's -u 16 under limits.cpu 2 runs 2.
  const cpus = defaultWorkerCount();
  const workers = inv.udpThreadNum === undefined ? cpus : Math.min(Math.max(1, inv.udpThreadNum), cpus);
  const source = inv.source;

  let builtin: StunnerConfig | undefined;
  try {
    builtin = await initialConfig(inv, env);
  } catch (err) {
    fail((err as Error).message);
  }
  const daemon = new Daemon({
    configPath: source.kind === 'file' ? source.path : undefined,
    builtin,
    logLevel: inv.logLevel,
    logFormat: inv.logFormat,
    workers,
    dryRun: inv.dryRun,
    forceReady: inv.forceReady,
    bootstrap: source.kind === 'cds' && source.watch,
  });
  const log = daemon.logs.get('stunnerd');
  log.info('starting stunnerd', { id: inv.id, version: PACKAGE_VERSION, origin: describe(inv) });
  for (const note of inv.notes) log.warn(note);
  if (inv.udpThreadNum !== undefined && inv.udpThreadNum > cpus) {
    log.info(`--udp-thread-num ${inv.udpThreadNum}: running ${cpus} dataplane worker(s), one per CPU this process may use`);
  }
  if (source.kind === 'cds' && !source.watch) daemon.configSource = { origin: source.url.href, watch: false };
  if (source.kind === 'file') daemon.configSource = { origin: `file://${source.path}`, watch: source.watch };

  // Signals that arrive while starting (Node's default would kill the process) are acted on once started.
  let started = false;
  let hupWhileStarting = false;
  let terminating = false;
  let cds: CdsConfigSource | undefined;
  let watch: ReturnType<Daemon['watch']> | undefined;
  const stopSources = () => {
    watch?.close();
    cds?.close();
  };
  const exit = async (code: number) => {
    stopSources();
    await daemon.stop();
    process.exit(code);
  };
  // As upstream: no config update is applied once the graceful shutdown has begun.
  const beginDrain = () => {
    stopSources();
    void daemon.drain(inv.drainTimeoutS, inv.drainMode).then(() => exit(0));
  };
  const drain = (signal: string) => {
    if (terminating) {
      log.info(`second ${signal}: exiting now`);
      process.exit(0);
    }
    terminating = true;
    if (started) beginDrain();
    else log.info(`${signal} while starting: the drain begins once started`);
  };
  process.on('SIGHUP', () => {
    // The config discovery server pushes every change: there is nothing to re-read.
    if (source.kind === 'cds') log.info('SIGHUP ignored: the config comes from a config discovery server');
    else if (started) void daemon.reload('SIGHUP');
    else hupWhileStarting = true;
  });
  process.on('SIGTERM', () => drain('SIGTERM'));
  process.on('SIGINT', () => {
    if (inv.drainMode === 'accept') drain('SIGINT');
    else if (started) void exit(0);
    else process.exit(0);
  });

  try {
    await daemon.start();
  } catch (err) {
    // A JSON log is read by machines: the reason stunnerd did not start has to be a record like the others.
    if (inv.logFormat === 'json') {
      const code = (err as { code?: unknown }).code;
      log.error('cannot start', { code: typeof code === 'string' ? code : undefined, error: (err as Error).message });
      process.exit(1);
    }
    fail((err as Error).message);
  }

  if (source.kind === 'cds' && source.watch) {
    cds = new CdsConfigSource({ daemon, origin: source.url, target: cdsTarget(inv), env, logger: daemon.logs.get('cds-client') });
    log.info('watching the config discovery server (delete-config updates are ignored)',
      { origin: source.url.href, id: inv.id, ...(inv.node === '' ? {} : { node: inv.node }) });
    cds.start();
  }
  if (source.kind === 'file' && source.watch) watch = daemon.watch();
  started = true;
  if (terminating) beginDrain();
  else if (hupWhileStarting) void daemon.reload('SIGHUP while starting');
}

function describe(inv: Invocation): string {
  const s = inv.source;
  switch (s.kind) {
    case 'demo': return 'built-in demo config';
    case 'uri': return 'default config from URI';
    case 'file': return `file://${s.path}${s.watch ? ' (watched)' : ''}`;
    case 'cds': return `${s.url.href}${s.watch ? ' (watched)' : ''}`;
  }
}

await main(process.argv.slice(2));
