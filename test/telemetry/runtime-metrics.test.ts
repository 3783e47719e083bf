// Runtime metrics through a real MeterProvider and the Prometheus text writer: names, types, and series that
// are absent (not zero) where the OS has no /proc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { registerRuntimeMetrics, type ProcSource } from '../../src/telemetry/runtime-metrics.ts';
import { prometheusText } from '../../src/telemetry/prometheus-text.ts';

class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function scrapeRuntime(proc?: ProcSource): Promise<string> {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const runtime = registerRuntimeMetrics(provider.getMeter('runtime'), proc);
  try {
    await new Promise((r) => setTimeout(r, 30)); // event-loop delay samples for the p99
    const { resourceMetrics } = await reader.collect();
    return await prometheusText(resourceMetrics, { targetInfo: false });
  } finally {
    runtime.stop();
    await provider.shutdown();
  }
}

test('runtime metrics: without /proc, the /proc-only series are absent, the rest present', async () => {
  const noProc: ProcSource = { status: () => undefined, openFds: () => undefined, maxFds: () => undefined };
  const text = await scrapeRuntime(noProc);
  for (const absent of ['process_virtual_memory_bytes', 'process_heap_bytes', 'process_open_fds', 'process_max_fds']) {
    assert.doesNotMatch(text, new RegExp(`^(# TYPE )?${absent}\\b`, 'm'), `${absent} absent`);
  }
  assert.match(text, /^process_resident_memory_bytes [1-9]\d*$/m, 'RSS comes from libuv everywhere');
  for (const present of ['process_cpu_seconds_total', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds',
    'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_utilization', 'nodejs_heap_size_used_bytes', 'nodejs_heap_size_total_bytes',
    'nodejs_external_memory_bytes', 'nodejs_version_info']) {
    assert.match(text, new RegExp(`^${present}(\\{.*\\})? \\S+$`, 'm'), `${present} present`);
  }
});

test('runtime metrics: with /proc figures, they are reported as given', async () => {
  const proc: ProcSource = {
    status: () => ({ residentBytes: 1000, virtualBytes: 2000, dataBytes: 3000 }),
    openFds: () => 17,
    maxFds: () => 1024,
  };
  const text = await scrapeRuntime(proc);
  assert.match(text, /^process_resident_memory_bytes 1000$/m);
  assert.match(text, /^process_virtual_memory_bytes 2000$/m);
  assert.match(text, /^process_heap_bytes 3000$/m);
  assert.match(text, /^process_open_fds 17$/m);
  assert.match(text, /^process_max_fds 1024$/m);
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
});

test('runtime metrics: an active-resource type that goes away reads 0, not its last count', async () => {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const runtime = registerRuntimeMetrics(provider.getMeter('runtime'));
  try {
    const timer = setInterval(() => {}, 1000);
    const during = await prometheusText((await reader.collect()).resourceMetrics, { targetInfo: false });
    assert.match(during, /^nodejs_active_resources\{type="Timeout"\} [1-9]\d*$/m);
    clearInterval(timer);
    const after = await prometheusText((await reader.collect()).resourceMetrics, { targetInfo: false });
    assert.match(after, /^nodejs_active_resources\{type="Timeout"\} 0$/m);
  } finally {
    runtime.stop();
    await provider.shutdown();
  }
});
