// Table tests of the OTEL_* environment parser: env object in, options (or an error naming the variable) out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTelemetryEnv, type Env, type TelemetryEnv } from '../../src/telemetry/env.ts';
import { TelemetryEnvError } from '../../src/telemetry/errors.ts';

interface Case {
  readonly name: string;
  readonly env: Env;
  readonly check: (t: TelemetryEnv) => void;
}

const cases: Case[] = [
  { name: 'empty env: pull allowed, no push, nothing disabled', env: {}, check: (t) => {
    assert.equal(t.sdkDisabled, false);
    assert.equal(t.pullAllowed, true);
    assert.equal(t.push, undefined);
    assert.equal(t.serviceName, undefined);
    assert.deepEqual(t.resourceAttributes, {});
    assert.deepEqual(t.warnings, []);
  } },
  { name: 'generic endpoint: /v1/metrics appended, push on, defaults', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
  }, check: (t) => {
    assert.deepEqual(t.push, {
      endpoint: 'http://collector:4318/v1/metrics', endpointSource: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      protocol: 'http/protobuf', headers: {}, compression: 'none', timeoutMillis: 10_000,
      temporality: 'cumulative', exportIntervalMillis: 60_000, exportTimeoutMillis: 30_000,
    });
    assert.equal(t.pullAllowed, true);
  } },
  { name: 'generic endpoint with a path and a trailing slash', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com:443/mypath/',
  }, check: (t) => assert.equal(t.push?.endpoint, 'https://otlp.example.com/mypath/v1/metrics') },
  { name: 'generic endpoint with a path, no trailing slash', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/prefix',
  }, check: (t) => assert.equal(t.push?.endpoint, 'http://c:4318/prefix/v1/metrics') },
  { name: 'signal-specific endpoint is used as is and wins over the generic one', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://vm:8428/opentelemetry/v1/metrics',
  }, check: (t) => {
    assert.equal(t.push?.endpoint, 'http://vm:8428/opentelemetry/v1/metrics');
    assert.equal(t.push?.endpointSource, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  } },
  { name: 'signal-specific endpoint without a path gets "/" only', env: {
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318',
  }, check: (t) => assert.equal(t.push?.endpoint, 'http://c:4318/') },
  { name: 'OTEL_METRICS_EXPORTER=otlp without an endpoint: the spec default', env: {
    OTEL_METRICS_EXPORTER: 'otlp',
  }, check: (t) => {
    assert.equal(t.push?.endpoint, 'http://localhost:4318/v1/metrics');
    assert.equal(t.push?.endpointSource, 'default');
    assert.equal(t.pullAllowed, false, 'prometheus not listed: pull vetoed');
  } },
  { name: 'OTEL_METRICS_EXPORTER=prometheus: endpoint set but push off', env: {
    OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
  }, check: (t) => {
    assert.equal(t.push, undefined);
    assert.equal(t.pullAllowed, true);
  } },
  { name: 'OTEL_METRICS_EXPORTER list, spaces and case', env: {
    OTEL_METRICS_EXPORTER: ' Prometheus , OTLP ',
  }, check: (t) => {
    assert.equal(t.pullAllowed, true);
    assert.notEqual(t.push, undefined);
  } },
  { name: 'OTEL_METRICS_EXPORTER=none: neither pull nor push', env: {
    OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
  }, check: (t) => {
    assert.equal(t.pullAllowed, false);
    assert.equal(t.push, undefined);
  } },
  { name: 'empty values count as unset', env: {
    OTEL_METRICS_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: ' ', OTEL_SERVICE_NAME: '',
  }, check: (t) => {
    assert.equal(t.pullAllowed, true);
    assert.equal(t.push, undefined);
    assert.equal(t.serviceName, undefined);
  } },
  { name: 'protocol, compression, timeout: signal-specific wins', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'HTTP/JSON',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'none', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip',
    OTEL_EXPORTER_OTLP_TIMEOUT: '1000', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '2500',
  }, check: (t) => {
    assert.equal(t.push?.protocol, 'http/json');
    assert.equal(t.push?.compression, 'gzip');
    assert.equal(t.push?.timeoutMillis, 2500);
  } },
  { name: 'grpc: the generic endpoint gets no path', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
  }, check: (t) => {
    assert.equal(t.push?.protocol, 'grpc');
    assert.equal(t.push?.endpoint, 'http://c:4317/');
  } },
  { name: 'headers: generic and specific merged, specific wins, percent-decoded', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20abc,x-tenant=a',
    OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-tenant=b , x-scope-orgid=team%2C1',
  }, check: (t) => assert.deepEqual(t.push?.headers,
    { authorization: 'Basic abc', 'x-tenant': 'b', 'x-scope-orgid': 'team,1' }) },
  { name: 'interval and timeout', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRIC_EXPORT_INTERVAL: '15000',
    OTEL_METRIC_EXPORT_TIMEOUT: '5000',
  }, check: (t) => {
    assert.equal(t.push?.exportIntervalMillis, 15_000);
    assert.equal(t.push?.exportTimeoutMillis, 5000);
    assert.deepEqual(t.warnings, []);
  } },
  { name: 'default export timeout is clamped silently to a shorter interval', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRIC_EXPORT_INTERVAL: '10000',
  }, check: (t) => {
    assert.equal(t.push?.exportTimeoutMillis, 10_000);
    assert.deepEqual(t.warnings, []);
  } },
  { name: 'an explicit export timeout above the interval is clamped with a warning', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRIC_EXPORT_INTERVAL: '1000',
    OTEL_METRIC_EXPORT_TIMEOUT: '5000',
  }, check: (t) => {
    assert.equal(t.push?.exportTimeoutMillis, 1000);
    assert.match(t.warnings.join('\n'), /OTEL_METRIC_EXPORT_TIMEOUT \(5000\) exceeds OTEL_METRIC_EXPORT_INTERVAL/);
  } },
  { name: 'temporality preferences', env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'LowMemory',
  }, check: (t) => assert.equal(t.push?.temporality, 'lowmemory') },
  { name: 'OTEL_SDK_DISABLED=TRUE turns off pull and push, with a warning', env: {
    OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
  }, check: (t) => {
    assert.equal(t.sdkDisabled, true);
    assert.equal(t.pullAllowed, false);
    assert.equal(t.push, undefined);
    assert.match(t.warnings.join('\n'), /OTEL_SDK_DISABLED=true/);
  } },
  { name: 'OTEL_SDK_DISABLED=yes is false, with a warning', env: { OTEL_SDK_DISABLED: 'yes' }, check: (t) => {
    assert.equal(t.sdkDisabled, false);
    assert.match(t.warnings.join('\n'), /OTEL_SDK_DISABLED="yes" is neither true nor false/);
  } },
  { name: 'service name and resource attributes', env: {
    OTEL_SERVICE_NAME: 'edge-turn',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod, k8s.pod.name=stunner-abc%2F1,service.name=ignored',
  }, check: (t) => {
    assert.equal(t.serviceName, 'edge-turn');
    assert.deepEqual(t.resourceAttributes, {
      'deployment.environment': 'prod', 'k8s.pod.name': 'stunner-abc/1', 'service.name': 'ignored',
    });
  } },
];

for (const c of cases) {
  test(`env: ${c.name}`, () => c.check(parseTelemetryEnv(c.env)));
}

const errors: { env: Env; variable: string; message: RegExp }[] = [
  { env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' }, variable: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    message: /must be one of http\/protobuf, http\/json, grpc, got "http\/xml"/ },
  { env: { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'udp' }, variable: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
    message: /got "udp"/ },
  { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, variable: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    message: /must be an http:\/\/ or https:\/\/ URL/ },
  { env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'ftp://c/' }, variable: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
    message: /must be an http:\/\/ or https:\/\/ URL, got "ftp:\/\/c\/"/ },
  { env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }, variable: 'OTEL_EXPORTER_OTLP_COMPRESSION',
    message: /must be one of gzip, none/ },
  { env: { OTEL_EXPORTER_OTLP_TIMEOUT: '10s' }, variable: 'OTEL_EXPORTER_OTLP_TIMEOUT',
    message: /positive integer \(milliseconds\), got "10s"/ },
  { env: { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '0' }, variable: 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
    message: /positive integer/ },
  { env: { OTEL_METRIC_EXPORT_INTERVAL: '-5' }, variable: 'OTEL_METRIC_EXPORT_INTERVAL', message: /positive integer/ },
  { env: { OTEL_METRIC_EXPORT_TIMEOUT: '1.5' }, variable: 'OTEL_METRIC_EXPORT_TIMEOUT', message: /positive integer/ },
  { env: { OTEL_METRICS_EXPORTER: 'otlp,console' }, variable: 'OTEL_METRICS_EXPORTER',
    message: /unsupported exporter "console"/ },
  { env: { OTEL_METRICS_EXPORTER: 'none,otlp' }, variable: 'OTEL_METRICS_EXPORTER',
    message: /"none" cannot be combined/ },
  { env: { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes' },
    variable: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', message: /cumulative, delta, lowmemory/ },
  { env: { OTEL_RESOURCE_ATTRIBUTES: 'team=a,broken' }, variable: 'OTEL_RESOURCE_ATTRIBUTES',
    message: /want key=value pairs separated by commas, got "broken"/ },
  { env: { OTEL_RESOURCE_ATTRIBUTES: 'team=%E0%A4%A' }, variable: 'OTEL_RESOURCE_ATTRIBUTES',
    message: /bad percent-encoding/ },
];

for (const e of errors) {
  test(`env error: ${e.variable}=${JSON.stringify(Object.values(e.env)[0])}`, () => {
    assert.throws(() => parseTelemetryEnv(e.env), (err: unknown) => {
      assert.ok(err instanceof TelemetryEnvError);
      assert.equal(err.code, 'ERR_OTEL_ENV');
      assert.equal(err.variable, e.variable);
      assert.ok(err.message.startsWith(`${e.variable}: `), err.message);
      assert.match(err.message, e.message);
      return true;
    });
  });
}

test('env error: a malformed header entry is named by position, never by its (secret) content', () => {
  assert.throws(() => parseTelemetryEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'x-ok=1,Bearer s3cr3t' }), (err: unknown) => {
    assert.ok(err instanceof TelemetryEnvError);
    assert.equal(err.variable, 'OTEL_EXPORTER_OTLP_HEADERS');
    assert.match(err.message, /entry 2/);
    assert.doesNotMatch(err.message, /s3cr3t/);
    return true;
  });
});

test('env: a bad variable is reported even when push is off (typos surface before they matter)', () => {
  assert.throws(() => parseTelemetryEnv({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_OTLP_TIMEOUT: 'x' }),
    /OTEL_EXPORTER_OTLP_TIMEOUT/);
});
