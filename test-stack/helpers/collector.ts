// The OpenTelemetry Collector of otel-collector/builder-config.yaml (otelcol-stunner), run by a test on loopback.
//
//   const collector = await startCollector({
//     config: { file: 'otel-collector/otlp-to-mimir.yaml' },       // or { yaml: '...' }
//     env: { MIMIR_REMOTE_WRITE_URL: prometheus.writeUrl },
//   });
//   collector.otlpHttpUrl                        // http://127.0.0.1:<port>: OTEL_EXPORTER_OTLP_ENDPOINT for stunnerd
//   collector.endpoint('exporters.prometheus')   // 127.0.0.1:<port> of any server of the configuration
//   await collector.stop(); await collector.restart();   // the same configuration on the same ports
//
// Every server of the configuration listens on a free loopback port (see otel-process.ts); the process counts as
// started when its health_check extension answers 200 (without one, when its own /metrics answers).
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { goTools } from './go-tools.ts';
import { OtelProcess, type OtelProcessOptions } from './otel-process.ts';

const REPO = resolve(import.meta.dirname, '..', '..');

export type Collector = OtelProcess;

export function startCollector(o: OtelProcessOptions): Promise<Collector> {
  return OtelProcess.start('otelcol', goTools().otelcol, [], o, async (p) => {
    const url = p.endpoints.has('extensions.health_check')
      ? `http://${p.endpoint('extensions.health_check')}/`
      : `http://${p.endpoint('service.telemetry.metrics')}/metrics`;
    return (await fetch(url)).status === 200;
  });
}

/** `otelcol-stunner validate --config <file>` (relative to the repository, or absolute): exit code and output. */
export function validateCollectorConfig(file: string, env: Readonly<Record<string, string>> = {}): Promise<{
  code: number; output: string;
}> {
  return new Promise((done) => {
    execFile(goTools().otelcol, ['validate', '--config', resolve(REPO, file)], { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, output: stdout + stderr }));
  });
}
