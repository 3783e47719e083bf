// The Docker image recipe and the local compose stack, checked without a Docker engine: what they reference
// exists in the repository, and the image keeps the properties the deployment relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { loadDashboards, variablesOf } from './support/dashboards.ts';

const REPO = join(import.meta.dirname, '..', '..');
const DOCKERFILE = readFileSync(join(REPO, 'deploy', 'Dockerfile'), 'utf8');
/** Dockerfile instructions, continuation lines joined, comments dropped. */
const instructions = DOCKERFILE.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  .map((l) => { const i = l.indexOf(' '); return { op: l.slice(0, i).toUpperCase(), arg: l.slice(i + 1).trim() }; });

test('the image is multi-stage on node:24-slim and runs stunnerd as a non-root user', () => {
  const froms = instructions.filter((i) => i.op === 'FROM').map((i) => i.arg.split(/\s+/)[0]);
  assert.ok(froms.length >= 2, 'multi-stage');
  for (const f of froms) assert.equal(f, 'node:24-slim');
  const users = instructions.filter((i) => i.op === 'USER');
  assert.ok(users.length > 0);
  assert.doesNotMatch(users.at(-1)!.arg, /^(root|0)(:|$)/);
  assert.deepEqual(JSON.parse(instructions.find((i) => i.op === 'ENTRYPOINT')!.arg), ['stunnerd']);
  assert.match(DOCKERFILE, /npm ci --omit=dev/);
});

test('the HEALTHCHECK asks /live with node itself (the slim image has no curl)', () => {
  const hc = instructions.find((i) => i.op === 'HEALTHCHECK');
  assert.ok(hc);
  const cmd = JSON.parse(hc.arg.slice(hc.arg.indexOf('CMD') + 3).trim()) as string[];
  assert.equal(cmd[0], 'node');
  assert.match(cmd.join(' '), /http:\/\/127\.0\.0\.1:8086\/live/);
  assert.doesNotMatch(hc.arg, /curl|wget/);
});

test('what the image copies from the build context exists and passes the .dockerignore', () => {
  const ignore = readFileSync(join(REPO, 'deploy', 'Dockerfile.dockerignore'), 'utf8').split('\n').map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/\*\*$/, ''));
  assert.equal(ignore[0], '*', 'everything is excluded first, then allowed by name');
  for (const copy of instructions.filter((i) => i.op === 'COPY' && !i.arg.startsWith('--from'))) {
    const sources = copy.arg.split(/\s+/).slice(0, -1);
    for (const s of sources) {
      assert.ok(existsSync(join(REPO, s)), `COPY ${s}: missing`);
      assert.ok(allowed.includes(s.replace(/\/$/, '')), `COPY ${s}: excluded by Dockerfile.dockerignore`);
    }
  }
});

test('the compose stack mounts files that exist and provisions the dashboards Grafana loads', () => {
  const composeDir = join(REPO, 'deploy', 'compose');
  const compose = YAML.parse(readFileSync(join(composeDir, 'compose.yaml'), 'utf8')) as {
    services: Record<string, { build?: { context: string; dockerfile: string }; volumes?: string[]; image?: string }>;
  };
  for (const name of ['stunnerd', 'otel-collector', 'prometheus', 'tempo', 'grafana']) assert.ok(compose.services[name], name);
  const build = compose.services.stunnerd.build!;
  assert.ok(existsSync(join(composeDir, build.context, build.dockerfile)), 'stunnerd build');
  const mounts = new Map<string, string>();
  for (const [name, svc] of Object.entries(compose.services)) {
    for (const v of svc.volumes ?? []) {
      const [src, dst] = v.split(':');
      if (!src.startsWith('.')) continue;
      assert.ok(existsSync(resolve(composeDir, src)), `${name}: ${src} does not exist`);
      mounts.set(`${name}:${dst}`, resolve(composeDir, src));
    }
  }
  const provider = YAML.parse(readFileSync(join(composeDir, 'grafana/provisioning/dashboards/dashboards.yaml'), 'utf8')) as {
    providers: { options: { path: string } }[];
  };
  const dashboardsDir = mounts.get(`grafana:${provider.providers[0].options.path}`);
  assert.equal(dashboardsDir, join(REPO, 'deploy', 'grafana', 'dashboards'));
  const sources = YAML.parse(readFileSync(join(composeDir, 'grafana/provisioning/datasources/datasources.yaml'), 'utf8')) as {
    datasources: { type: string; url: string }[];
  };
  assert.deepEqual(sources.datasources.map((d) => d.type).sort(), ['prometheus', 'tempo']);
  // The stunnerd config is mounted where the image's default command reads it.
  assert.equal(mounts.get('stunnerd:/etc/stunnerd/stunnerd.conf'), join(composeDir, 'stunnerd.yaml'));
  assert.match(DOCKERFILE, /CMD \["-w", "-c", "\/etc\/stunnerd\/stunnerd\.conf"\]/);
});

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
}
interface Datasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  jsonData?: { exemplarTraceIdDestinations?: { name: string; datasourceUid?: string; url?: string }[] };
}

interface TempoConfig {
  server: { http_listen_port: number };
  distributor: { receivers: { otlp: { protocols: { grpc: { endpoint: string } } } } };
}

const COMPOSE_DIR = join(REPO, 'deploy', 'compose');
const readYaml = <T>(path: string): T => YAML.parse(readFileSync(join(COMPOSE_DIR, path), 'utf8')) as T;
/** Grafana data source types that open a trace by its id. */
const TRACE_DATASOURCE_TYPES = new Set(['tempo', 'jaeger', 'zipkin']);

test('the Prometheus data source links exemplars to a provisioned traces data source, and Prometheus keeps exemplars', () => {
  const { datasources } = readYaml<{ datasources: Datasource[] }>('grafana/provisioning/datasources/datasources.yaml');
  const byUid = new Map(datasources.map((d) => [d.uid, d]));
  const prometheus = datasources.find((d) => d.type === 'prometheus')!;
  const destinations = prometheus.jsonData?.exemplarTraceIdDestinations ?? [];
  assert.ok(destinations.length > 0, 'exemplarTraceIdDestinations');
  for (const dest of destinations) {
    // The exemplar label stunnerd's trace id arrives in (OpenMetrics and the collector's remote write both say trace_id).
    assert.equal(dest.name, 'trace_id');
    const target = byUid.get(dest.datasourceUid ?? '');
    assert.ok(target, `exemplar link to uid "${dest.datasourceUid}": no data source with that uid is provisioned`);
    assert.ok(TRACE_DATASOURCE_TYPES.has(target.type), `exemplar link to ${target.name}: type ${target.type} holds no traces`);
  }
  const compose = readYaml<{ services: Record<string, ComposeService> }>('compose.yaml');
  assert.ok(compose.services.prometheus.command?.includes('--enable-feature=exemplar-storage'),
    'Prometheus drops exemplars without --enable-feature=exemplar-storage');
});

test('every data source variable of the dashboards finds a provisioned data source of its type in the compose stack', () => {
  const { datasources } = readYaml<{ datasources: Datasource[] }>('grafana/provisioning/datasources/datasources.yaml');
  const types = new Set(datasources.map((d) => d.type));
  const variables = loadDashboards().flatMap(variablesOf).filter((v) => v.type === 'datasource');
  assert.ok(variables.some((v) => v.query === 'tempo'), 'a traces (tempo) variable');
  for (const v of variables) assert.ok(types.has(v.query), `${v.dashboard} $${v.name}: no ${v.query} data source`);
});

test('stunnerd\'s traces reach the Tempo that Grafana reads: OTLP to the collector, its traces pipeline to Tempo', () => {
  const compose = readYaml<{ services: Record<string, ComposeService> }>('compose.yaml');
  const env = compose.services.stunnerd.environment ?? {};
  assert.match(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '', /^http:\/\/otel-collector:4318\/?$/);
  assert.ok(!env.OTEL_TRACES_EXPORTER || env.OTEL_TRACES_EXPORTER.split(',').includes('otlp'), 'OTEL_TRACES_EXPORTER has otlp');
  assert.ok(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off',
    'parentbased_traceidratio'].includes(env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on'), `sampler ${env.OTEL_TRACES_SAMPLER}`);
  const collector = readYaml<{
    exporters: Record<string, { endpoint?: string }>;
    service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
  }>('otel-collector.yaml');
  const traces = collector.service.pipelines.traces;
  assert.ok(traces?.receivers.includes('otlp'), 'the collector takes OTLP traces');
  const tempo = readYaml<TempoConfig>('tempo.yaml');
  const tempoGrpcPort = tempo.distributor.receivers.otlp.protocols.grpc.endpoint.split(':').at(-1);
  assert.ok(traces.exporters.some((e) => collector.exporters[e]?.endpoint === `tempo:${tempoGrpcPort}`),
    `the traces pipeline exports to tempo:${tempoGrpcPort}`);
  const { datasources } = readYaml<{ datasources: Datasource[] }>('grafana/provisioning/datasources/datasources.yaml');
  const grafanaTempo = datasources.find((d) => d.type === 'tempo')!;
  assert.equal(grafanaTempo.url, `http://tempo:${tempo.server.http_listen_port}`);
});
