// The real gateway daemon, started the way users start it: `node src/cmd/stunnerd.ts -c <config.yaml>`.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { startChild, waitFor } from './child.ts';
import type { Child } from './child.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');
export const STUNNERD_ENTRY = join(REPO, 'src', 'cmd', 'stunnerd.ts');

export interface StunnerdProcess {
  readonly child: Child;
  readonly metricsUrl: string;
  /** SIGHUP: reload the config file. */
  reload(): void;
  stop(): Promise<number | string>;
}

/** Starts stunnerd with `config` (a stunnerd v1 config object) and waits until its metrics endpoint answers. */
export async function startStunnerd(opts: { dir: string; config: object; metricsUrl: string; env?: NodeJS.ProcessEnv }): Promise<StunnerdProcess> {
  if (!existsSync(STUNNERD_ENTRY)) throw new Error(`${STUNNERD_ENTRY} does not exist: the daemon is not built yet`);
  const file = join(opts.dir, 'stunnerd.yaml');
  writeFileSync(file, YAML.stringify(opts.config));
  const child = startChild('stunnerd', process.execPath, [STUNNERD_ENTRY, '-c', file], {
    cwd: REPO,
    // The pull path is under test: whatever OTEL_* the test runner has must not switch it off or add a push.
    env: { ...process.env, OTEL_SDK_DISABLED: undefined, OTEL_METRICS_EXPORTER: undefined,
      OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: undefined, ...opts.env },
  });
  await waitFor('the stunnerd metrics endpoint', async () => {
    const res = await fetch(opts.metricsUrl);
    const text = await res.text();
    return res.ok && text.includes('stunner_build_info') ? true : undefined;
  }, { timeoutMs: 20_000, child });
  return {
    child,
    metricsUrl: opts.metricsUrl,
    reload: () => { child.process.kill('SIGHUP'); },
    // stunnerd drains on SIGTERM until its allocations end; the load run has ended them all.
    stop: () => child.stop(10_000),
  };
}
