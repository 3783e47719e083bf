// A collector that is down, failing or slow: failures are logged at a limited rate, in-flight requests (and so
// memory) stay bounded, and shutdown does not wait for it beyond its budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Telemetry } from '../../src/telemetry/telemetry.ts';
import { PUSH_CONCURRENCY } from '../../src/telemetry/push.ts';
import { knownRegistry, FakeStatus, capturingLogger } from './helpers/fixture.ts';
import { get } from './helpers/http.ts';

async function collector(onRequest: (req: IncomingMessage, respond: (status: number) => void) => void):
  Promise<{ server: Server; endpoint: string }> {
  const server = createServer((req, res) => {
    req.resume();
    onRequest(req, (status) => res.writeHead(status).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics` };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('push robustness: a failing collector is retried every interval but logged once per minute', async () => {
  let attempts = 0;
  const { server, endpoint } = await collector((_req, respond) => {
    attempts++;
    respond(400); // not retryable: one request per export
  });
  const { factory, lines } = capturingLogger();
  const t = new Telemetry({ registry: knownRegistry(), logger: factory, status: new FakeStatus(),
    env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: endpoint, OTEL_METRIC_EXPORT_INTERVAL: '100' } });
  try {
    await t.start({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: '' });
    await sleep(1200);
    assert.ok(attempts >= 5, `the reader kept exporting (${attempts} attempts)`);
    const failures = lines.filter((l) => l.includes('OTLP metrics export failed'));
    assert.equal(failures.length, 1, lines.join('\n'));
    assert.match(failures[0], /WARN/);
    assert.match(failures[0], new RegExp(`endpoint=${endpoint.replace(/[/.]/g, '\\$&')}`));
    assert.equal(lines.filter((l) => l.includes('opentelemetry')).length <= 1, true, lines.join('\n'));
    const scrape = await get(`http://127.0.0.1:${t.address('admin.metrics_endpoint')?.port}/metrics`);
    assert.equal(scrape.status, 200, 'pull unaffected');
  } finally {
    await t.shutdown(500);
    await closeServer(server);
  }
});

test('push robustness: a collector that is down (connection refused) costs a log line, not a crash', async () => {
  const { server, endpoint } = await collector(() => {});
  await closeServer(server); // nothing listens there now
  const { factory, lines } = capturingLogger();
  const t = new Telemetry({ registry: knownRegistry(), logger: factory, status: new FakeStatus(),
    env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: endpoint, OTEL_METRIC_EXPORT_INTERVAL: '100',
      OTEL_EXPORTER_OTLP_TIMEOUT: '200' } });
  try {
    await t.start({ metrics_endpoint: '', healthcheck_endpoint: '' });
    await sleep(800);
    const failures = lines.filter((l) => l.includes('OTLP metrics export failed') || l.includes('opentelemetry'));
    assert.ok(failures.length >= 1 && failures.length <= 2, lines.join('\n'));
    assert.match(failures.join('\n'), /ECONNREFUSED|timed out/);
  } finally {
    const t0 = Date.now();
    await t.shutdown(500);
    assert.ok(Date.now() - t0 < 3000, 'shutdown bounded');
  }
});

test('push robustness: a collector that never answers holds at most PUSH_CONCURRENCY requests', async () => {
  let open = 0;
  let maxOpen = 0;
  let aborted = 0;
  const { server, endpoint } = await collector((req) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    req.socket.once('close', () => {
      open--;
      aborted++;
    });
  });
  const { factory } = capturingLogger();
  const t = new Telemetry({ registry: knownRegistry(), logger: factory, status: new FakeStatus(),
    env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: endpoint, OTEL_METRIC_EXPORT_INTERVAL: '100',
      OTEL_EXPORTER_OTLP_TIMEOUT: '400' } });
  try {
    await t.start({ metrics_endpoint: '', healthcheck_endpoint: '' });
    await sleep(1500);
    assert.ok(maxOpen >= 1, 'exports were attempted');
    assert.ok(maxOpen <= PUSH_CONCURRENCY, `at most ${PUSH_CONCURRENCY} requests in flight, saw ${maxOpen}`);
    assert.ok(aborted >= 1, 'requests are given up after the OTLP timeout');
  } finally {
    const t0 = Date.now();
    await t.shutdown(300);
    assert.ok(Date.now() - t0 < 2000, `shutdown bounded by its budget (${Date.now() - t0} ms)`);
    await closeServer(server);
  }
});
