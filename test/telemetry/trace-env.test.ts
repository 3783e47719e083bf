// The trace variables (pure parsing): when tracing is on, where it exports, with which sampler and batch limits,
// and a clear error naming the variable for a malformed one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BSP_DEFAULTS, DEFAULT_OTLP_TRACES_ENDPOINT, parseTraceEnv } from '../../src/telemetry/trace-env.ts';
import { TelemetryEnvError } from '../../src/telemetry/errors.ts';

test('off without an OTLP endpoint or an exporter asked for; on with either', () => {
  assert.equal(parseTraceEnv({}).options, undefined);
  assert.equal(parseTraceEnv({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics' }).options, undefined);
  const generic = parseTraceEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).options;
  assert.deepEqual(generic?.exporters, ['otlp']);
  assert.equal(generic?.otlp?.endpoint, 'http://collector:4318/v1/traces');
  assert.equal(generic?.otlp?.protocol, 'http/protobuf');
  const specific = parseTraceEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9/x' });
  assert.equal(specific.options?.otlp?.endpoint, 'http://b:9/x');
  const explicit = parseTraceEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).options;
  assert.equal(explicit?.otlp?.endpoint, DEFAULT_OTLP_TRACES_ENDPOINT);
  assert.deepEqual(parseTraceEnv({ OTEL_TRACES_EXPORTER: 'console' }).options?.exporters, ['console']);
  assert.equal(parseTraceEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' }).options, undefined);
  assert.equal(parseTraceEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).options, undefined);
});

test('protocol, headers, compression and timeout: the traces variable wins over the generic one', () => {
  const o = parseTraceEnv({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1500',
  }).options!.otlp!;
  assert.equal(o.protocol, 'http/json');
  assert.deepEqual(o.headers, { a: '1', b: '3' });
  assert.equal(o.compression, 'gzip');
  assert.equal(o.timeoutMillis, 1500);
});

test('grpc is not available: OTLP traces off with a note saying what to set', () => {
  const t = parseTraceEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.equal(t.options, undefined);
  assert.match(t.notes.join('\n'), /grpc is not available.*http\/protobuf/);
});

test('samplers, ratio and the batch processor limits', () => {
  const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' };
  assert.equal(parseTraceEnv(on).options?.sampler, 'parentbased_always_on');
  const r = parseTraceEnv({ ...on, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).options!;
  assert.equal(r.sampler, 'parentbased_traceidratio');
  assert.equal(r.ratio, 0.25);
  assert.match(parseTraceEnv({ ...on, OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: '0.5' }).notes.join(), /ignored/);
  assert.deepEqual(parseTraceEnv(on).options?.batch, BSP_DEFAULTS);
  const b = parseTraceEnv({ ...on, OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '500',
    OTEL_BSP_SCHEDULE_DELAY: '250', OTEL_BSP_EXPORT_TIMEOUT: '2000' });
  assert.deepEqual(b.options?.batch, { maxQueueSize: 100, maxExportBatchSize: 100, scheduleDelayMillis: 250, exportTimeoutMillis: 2000 });
  assert.match(b.notes.join(), /OTEL_BSP_MAX_EXPORT_BATCH_SIZE \(500\) exceeds OTEL_BSP_MAX_QUEUE_SIZE/);
  assert.equal(parseTraceEnv({ ...on, OTEL_STUNNER_RECORD_USERNAME: 'true' }).options?.recordUsername, true);
  assert.equal(parseTraceEnv(on).options?.recordUsername, false);
  assert.equal(parseTraceEnv({ ...on, OTEL_STUNNER_TRACE_BINDING: 'TRUE' }).options?.traceBinding, true);
});

test('a malformed variable is an error naming it, even with tracing off', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, /OTEL_TRACES_EXPORTER.*zipkin/],
    [{ OTEL_TRACES_EXPORTER: 'none,otlp' }, /OTEL_TRACES_EXPORTER.*"none" cannot be combined/],
    [{ OTEL_TRACES_SAMPLER: 'jaeger_remote' }, /OTEL_TRACES_SAMPLER.*jaeger_remote/],
    [{ OTEL_TRACES_SAMPLER_ARG: '1.5' }, /OTEL_TRACES_SAMPLER_ARG.*between 0 and 1/],
    [{ OTEL_TRACES_SAMPLER_ARG: 'half' }, /OTEL_TRACES_SAMPLER_ARG/],
    [{ OTEL_BSP_MAX_QUEUE_SIZE: '-1' }, /OTEL_BSP_MAX_QUEUE_SIZE/],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' }, /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.*http/],
    [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' }, /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => parseTraceEnv(env), (e: unknown) => e instanceof TelemetryEnvError && message.test(e.message),
      JSON.stringify(env));
  }
});
