#!/usr/bin/env node
// stunnerd: the gateway daemon. This file only parses flags; src/daemon does the work.
import { parseArgs } from 'node:util';
import { Daemon } from '../daemon/daemon.ts';
import { builtinConfig } from '../daemon/builtin-config.ts';
import { renderCommand } from '../daemon/render-command.ts';
import { defaultWorkerCount } from '../dataplane/threads.ts';
import { PACKAGE_VERSION } from '../telemetry/version.ts';
import type { LogFormat } from '../log/logger.ts';

const HELP = `Usage: stunnerd [options] [turn://user:pass@addr:port]
       stunnerd render -c FILE [--output yaml|json]

The STUNner dataplane daemon: a TURN media gateway with OpenTelemetry metrics.

Options:
  -c, --config FILE        stunnerd config (v1, JSON or YAML) or Kubernetes resources (GatewayConfig,
                           Gateway, UDPRoute, ...) to render into one
  -w, --watch              reload when the config file changes (also on SIGHUP)
  -l, --log LEVELS         log levels, scope:LEVEL[,scope:LEVEL] (default: admin.loglevel, else all:INFO)
  -v, --verbose            same as -l all:DEBUG
      --log-format FORMAT  text (default) or json
      --drain-timeout SEC  how long SIGTERM waits for allocations to end (default: admin.limits.drain_timeout)
  -u, --udp-thread-num N   dataplane worker threads, each serving every listener on the same ports
                           (SO_REUSEPORT); 1 or 0 = the main thread only (default: the CPUs this process
                           may use, cgroup CPU quota included; here ${defaultWorkerCount()})
  -h, --help               this help
      --version            print the version

Without -c, a URI sets up one listener and an allow-any cluster, as upstream stunnerd; with neither,
a local demo config runs on 127.0.0.1:3478 (user1/passwd1) with metrics at http://127.0.0.1:8080/metrics.
Signals: SIGHUP reloads; SIGTERM drains (a second SIGTERM exits at once); SIGINT exits.`;

function fail(msg: string): never {
  process.stderr.write(`stunnerd: ${msg}\n`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'render') {
    process.exitCode = await renderCommand(argv.slice(1));
    return;
  }
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        watch: { type: 'boolean', short: 'w' },
        log: { type: 'string', short: 'l' },
        verbose: { type: 'boolean', short: 'v' },
        'log-format': { type: 'string' },
        'drain-timeout': { type: 'string' },
        'udp-thread-num': { type: 'string', short: 'u' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${HELP}`);
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (values.version) {
    process.stdout.write(`stunnerd ${PACKAGE_VERSION} (node ${process.version})\n`);
    return;
  }
  const format = values['log-format'] ?? 'text';
  if (format !== 'text' && format !== 'json') fail(`--log-format: want text or json, got "${format}"`);
  let drainTimeout: number | undefined;
  if (values['drain-timeout'] !== undefined) {
    drainTimeout = Number(values['drain-timeout']);
    if (!Number.isFinite(drainTimeout) || drainTimeout < 0) {
      fail(`--drain-timeout: want seconds >= 0, got "${values['drain-timeout']}"`);
    }
  }
  let workers = defaultWorkerCount();
  if (values['udp-thread-num'] !== undefined) {
    const n = Number(values['udp-thread-num']);
    if (!Number.isInteger(n) || n < 0 || n > 1024) fail(`--udp-thread-num: want an integer 0..1024, got "${values['udp-thread-num']}"`);
    // Upstream's 0 disables multithreading.
    workers = Math.max(1, n);
  }
  if (positionals.length > 1) fail(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  if (values.config !== undefined && positionals.length > 0) fail('give either -c FILE or a turn:// URI, not both');
  if (values.watch && values.config === undefined) fail('-w needs -c FILE');

  let builtin;
  if (values.config === undefined) {
    try {
      builtin = builtinConfig(positionals[0]);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  const daemon = new Daemon({
    configPath: values.config,
    builtin,
    logLevel: values.verbose ? 'all:DEBUG' : values.log,
    logFormat: format as LogFormat,
    workers,
  });
  // A SIGHUP that arrives while starting (Node's default would kill the process) is applied right after.
  let started = false;
  let hupWhileStarting = false;
  process.on('SIGHUP', () => {
    if (started) void daemon.reload('SIGHUP');
    else hupWhileStarting = true;
  });
  try {
    await daemon.start();
  } catch (err) {
    // A JSON log is read by machines: the reason stunnerd did not start has to be a record like the others.
    if (format === 'json') {
      const code = (err as { code?: unknown }).code;
      daemon.logs.get('stunnerd').error('cannot start', { code: typeof code === 'string' ? code : undefined,
        error: (err as Error).message });
      process.exit(1);
    }
    fail((err as Error).message);
  }
  const log = daemon.logs.get('stunnerd');

  const watch = values.watch ? daemon.watch() : undefined;
  started = true;
  if (hupWhileStarting) void daemon.reload('SIGHUP while starting');

  let terminating = false;
  const exit = async (code: number) => {
    watch?.close();
    await daemon.stop();
    process.exit(code);
  };
  process.on('SIGTERM', () => {
    if (terminating) {
      log.info('second SIGTERM: exiting now');
      process.exit(0);
    }
    terminating = true;
    void daemon.drain(drainTimeout).then(() => exit(0));
  });
  process.on('SIGINT', () => void exit(0));
}

await main(process.argv.slice(2));
