// The OpenTelemetry Collector configurations shipped in otel-collector/ and deploy/compose/ are structurally valid
// for otelcol-contrib (see support/otelcol-config-check.ts for what that covers without the binary).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { checkCollectorConfig } from './support/otelcol-config-check.ts';

const REPO = join(import.meta.dirname, '..', '..');
const CONFIGS = [
  // builder-config.yaml is the collector builder's manifest (which components to build), not a collector config.
  ...readdirSync(join(REPO, 'otel-collector')).filter((f) => f.endsWith('.yaml') && f !== 'builder-config.yaml')
    .map((f) => join('otel-collector', f)),
  join('deploy', 'compose', 'otel-collector.yaml'),
];

test('the checker rejects what otelcol-contrib would reject', () => {
  const base = {
    receivers: { otlp: { protocols: { http: {} } } },
    processors: { memory_limiter: { check_interval: '1s', limit_percentage: 80 }, batch: {} },
    exporters: { 'otlp/tempo': { endpoint: 'tempo:4317' } },
    service: { pipelines: { traces: { receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['otlp/tempo'] } } },
  };
  assert.deepEqual(checkCollectorConfig(YAML.stringify(base)), []);
  const cases: [string, (c: typeof base & Record<string, unknown>) => void, RegExp][] = [
    ['undefined exporter', (c) => { c.service.pipelines.traces.exporters = ['otlp/mimir']; }, /"otlp\/mimir" is not defined/],
    ['unknown type', (c) => { c.exporters = { 'prometheusremote/x': {} } as never; c.service.pipelines.traces.exporters = ['prometheusremote/x']; }, /unknown exporters type/],
    ['batch first', (c) => { c.service.pipelines.traces.processors = ['memory_limiter', 'batch', 'memory_limiter']; }, /batch must be the last/],
    ['unused component', (c) => { c.receivers = { ...c.receivers, prometheus: {} } as never; }, /receivers.prometheus: defined but not used/],
    ['bad signal', (c) => { c.service.pipelines = { spans: c.service.pipelines.traces } as never; }, /signal must be/],
  ];
  for (const [what, mutate, expected] of cases) {
    const c = structuredClone(base) as typeof base & Record<string, unknown>;
    mutate(c);
    assert.match(checkCollectorConfig(YAML.stringify(c)).join('\n'), expected, what);
  }
  assert.match(checkCollectorConfig('exporters:\n  otlp:\n    endpoint: ${TEMPO}\n').join('\n'), /write \$\{env:NAME\}/);
  assert.match(checkCollectorConfig('receivers: [\n').join('\n'), /^YAML:/);
});

for (const file of CONFIGS) {
  test(`${file} is a valid otelcol-contrib configuration`, () => {
    assert.deepEqual(checkCollectorConfig(readFileSync(join(REPO, file), 'utf8')), []);
  });
}

test('the OTLP configuration exports metrics to Mimir and to a Prometheus endpoint, and traces to Tempo', () => {
  const c = YAML.parse(readFileSync(join(REPO, 'otel-collector', 'otlp-to-mimir.yaml'), 'utf8')) as {
    service: { pipelines: Record<string, { exporters: string[] }> };
  };
  assert.deepEqual(c.service.pipelines.metrics.exporters.map((e) => e.split('/')[0]).sort(), ['prometheus', 'prometheusremotewrite']);
  assert.deepEqual(c.service.pipelines.traces.exporters.map((e) => e.split('/')[0]), ['otlp']);
});
