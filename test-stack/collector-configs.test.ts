// Every collector configuration shipped in otel-collector/ and deploy/compose/ is accepted by `otelcol-stunner
// validate` — the real collector's own check (component types, each component's settings, pipelines) — with the
// environment its header documents. The structural check in test/deploy/otel-collector.test.ts stays for runs
// without Go; this is the one that knows each component's schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateCollectorConfig } from './helpers/collector.ts';

const REPO = join(import.meta.dirname, '..');
const CONFIGS = [
  ...readdirSync(join(REPO, 'otel-collector'))
    .filter((f) => f.endsWith('.yaml') && f !== 'builder-config.yaml').map((f) => join('otel-collector', f)),
  join('deploy', 'compose', 'otel-collector.yaml'),
];
/** The variables without a default in the configurations (`${env:NAME}` rather than `${env:NAME:-default}`). */
const ENV = { MIMIR_REMOTE_WRITE_URL: 'http://mimir.example:8080/api/v1/push' };

test('the shipped collector configurations are the five expected', () => {
  assert.deepEqual([...CONFIGS].sort(), ['deploy/compose/otel-collector.yaml', 'otel-collector/kubernetes.yaml',
    'otel-collector/otlp-to-mimir.yaml', 'otel-collector/scrape-kubernetes.yaml', 'otel-collector/scrape-stunnerd.yaml']);
});

for (const file of CONFIGS) {
  test(`otelcol-stunner validate --config ${file}`, { timeout: 60_000 }, async () => {
    const { code, output } = await validateCollectorConfig(file, ENV);
    assert.equal(code, 0, output);
  });
}

test('otelcol-stunner validate rejects what the collector would not run', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stunner-otelcol-validate-'));
  try {
    const cases: [string, string, RegExp][] = [
      ['a component type the distribution lacks', 'receivers: {otlp: {protocols: {http: {}}}}\nexporters: {kafka: {}}\n'
        + 'service: {pipelines: {metrics: {receivers: [otlp], exporters: [kafka]}}}\n', /kafka/],
      ['a setting the component does not have', 'receivers: {otlp: {protocols: {http: {endpoint_url: x}}}}\nexporters: {debug: {}}\n'
        + 'service: {pipelines: {metrics: {receivers: [otlp], exporters: [debug]}}}\n', /endpoint_url/],
    ];
    for (const [what, yaml, expected] of cases) {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, yaml);
      const { code, output } = await validateCollectorConfig(file);
      assert.notEqual(code, 0, `${what}: accepted\n${output}`);
      assert.match(output, expected, what);
    }
    // MIMIR_REMOTE_WRITE_URL unset: the remote-write exporter has no endpoint.
    const unset = await validateCollectorConfig('otel-collector/otlp-to-mimir.yaml', { MIMIR_REMOTE_WRITE_URL: '' });
    assert.notEqual(unset.code, 0, unset.output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
