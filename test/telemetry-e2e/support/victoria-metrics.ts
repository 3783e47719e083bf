// A real VictoriaMetrics on a free loopback port: the OTLP/protobuf sink (`/opentelemetry/v1/metrics`) whose
// stored series the push tests read back through its export API. Missing binary = test failure, not a skip.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from '../../helpers/process.ts';
import { get } from '../../telemetry/helpers/http.ts';
import { requireTool } from '../../telemetry/helpers/tools.ts';
import { until } from './stunnerd.ts';

export interface VmSeries {
  readonly metric: Record<string, string>;
  readonly values: number[];
  readonly timestamps: number[];
}

export interface VictoriaMetrics {
  readonly base: string;
  /** Where OTLP/protobuf is POSTed. */
  readonly otlpUrl: string;
  /** Every stored sample of the series matching `match` (flushed first, so the latest push is visible). */
  exportSeries(match: string): Promise<VmSeries[]>;
  log(): string;
  stop(): Promise<void>;
}

/** Stores OTLP names as they arrive (no -opentelemetry.usePrometheusNaming): what reaches it must already be the
 *  Prometheus names. */
export async function startVictoriaMetrics(): Promise<VictoriaMetrics> {
  const bin = requireTool('victoria-metrics');
  const port = await freeTcpPort();
  const dataDir = mkdtempSync(join(tmpdir(), 'stunner-e2e-vm-'));
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(bin, [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dataDir}`,
    '-retentionPeriod=1d', '-loggerLevel=ERROR'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await until('VictoriaMetrics /health', 15_000, async () => ((await get(`${base}/health`)).status === 200 ? true : undefined));
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${log}`, { cause: err });
  }
  return {
    base,
    otlpUrl: `${base}/opentelemetry/v1/metrics`,
    async exportSeries(match) {
      await get(`${base}/internal/force_flush`);
      const res = await get(`${base}/api/v1/export?match[]=${encodeURIComponent(match)}`);
      if (res.status !== 200) throw new Error(`VictoriaMetrics export: HTTP ${res.status} ${res.body}`);
      return res.body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as VmSeries);
    },
    log: () => log,
    stop,
  };
}
