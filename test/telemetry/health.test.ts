// Health endpoints and the admin HTTP servers: /live, /ready (503 -> 200 -> 503 on shutdown) and /status with
// upstream stunnerd's bodies, one shared server for equal host:port, restarts limited to the changed endpoint,
// bind errors reported, not thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Telemetry, HEALTH_FIELD, METRICS_FIELD, type AdminEndpoints } from '../../src/telemetry/telemetry.ts';
import { statusFromConfig } from '../../src/telemetry/health.ts';
import { PROCESS_INSTANCE_ID } from '../../src/telemetry/resource.ts';
import type { StunnerConfig } from '../../src/config/types.ts';
import { knownRegistry, FakeStatus, capturingLogger } from './helpers/fixture.ts';
import { get } from './helpers/http.ts';

async function withTelemetry(admin: AdminEndpoints, fn: (t: Telemetry, status: FakeStatus, lines: string[]) => Promise<void>,
  env: Record<string, string> = {}): Promise<void> {
  const status = new FakeStatus();
  const { factory, lines } = capturingLogger();
  const t = new Telemetry({ registry: knownRegistry(), logger: factory, status, env, version: '1.2.3' });
  try {
    assert.deepEqual(await t.start(admin), []);
    await fn(t, status, lines);
  } finally {
    await t.shutdown();
  }
}

function base(t: Telemetry, field: typeof METRICS_FIELD | typeof HEALTH_FIELD): string {
  const a = t.address(field);
  assert.ok(a !== undefined, `${field} is served`);
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}

async function freePort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

test('health: /live always 200; /ready 503 before the first config, 200 once running, 503 when shutting down', async () => {
  await withTelemetry({ metrics_endpoint: '', healthcheck_endpoint: 'http://127.0.0.1:0' }, async (t, status) => {
    const url = base(t, HEALTH_FIELD);
    const live = await get(`${url}/live`);
    assert.deepEqual([live.status, live.headers['content-type'], live.body], [200, 'application/json; charset=utf-8', '{}\n']);
    const notReady = await get(`${url}/ready`);
    assert.equal(notReady.status, 503);
    assert.equal(notReady.body, '{"status":503,"message":"stunnerd not ready"}\n', "upstream's body");
    status.isReady = true;
    const ready = await get(`${url}/ready`);
    assert.deepEqual([ready.status, ready.body], [200, '{"status":200,"message":"READY"}\n']);
    t.setShuttingDown();
    const draining = await get(`${url}/ready`);
    assert.equal(draining.status, 503);
    assert.equal(draining.body, '{"status":503,"message":"stunnerd not ready"}\n');
    assert.equal((await get(`${url}/live`)).status, 200, 'still alive while draining');
    assert.equal((await get(`${url}/nope`)).status, 404);
    const post = await get(`${url}/ready`, {}, 'POST');
    assert.equal(post.status, 405);
  });
});

test('health: --force-ready-status keeps /ready 200 before the first config and while shutting down; /status tells', async () => {
  await withTelemetry({ metrics_endpoint: '', healthcheck_endpoint: 'http://127.0.0.1:0' }, async (t, status) => {
    const url = base(t, HEALTH_FIELD);
    status.forceReady = true;
    assert.equal((await get(`${url}/ready`)).status, 200);
    t.setShuttingDown();
    assert.equal((await get(`${url}/ready`)).status, 200);
    assert.equal((JSON.parse((await get(`${url}/status`)).body) as { status: string }).status, 'TERMINATING');
  });
});

test("health: /status is upstream's StunnerStatus with allocation counts, no secrets, and our fields besides", async () => {
  await withTelemetry({ metrics_endpoint: '', healthcheck_endpoint: 'http://127.0.0.1:0/ignored-path' }, async (t, status) => {
    const config = {
      version: 'v1',
      admin: { name: 'stunnerd-1', loglevel: 'all:INFO', metrics_endpoint: '', healthcheck_endpoint: 'http://:8086',
        user_quota: 0 },
      auth: { type: 'static', realm: 'r', credentials: { username: 'u', password: 'secret-pass' } },
      listeners: [
        { name: 'udp-listener', protocol: 'TURN-UDP', address: '0.0.0.0', port: 3478, routes: ['media-plane'],
          public_address: '1.2.3.4', public_port: 3478, cert: '', key: '' },
        { name: 'default/tcp-gateway/tcp-listener', protocol: 'TURN-TLS', address: '0.0.0.0', port: 443,
          routes: ['media-plane'], cert: '-----BEGIN CERTIFICATE-----', key: '-----BEGIN PRIVATE KEY-----' },
      ],
      clusters: [{ name: 'media-plane', type: 'STATIC', protocol: 'UDP', endpoints: ['10.0.0.0/8'] }],
    } as unknown as StunnerConfig;
    status.snapshot = statusFromConfig(config, 7);
    status.isReady = true;
    const res = await get(`${base(t, HEALTH_FIELD)}/status`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.doesNotMatch(res.body, /secret-pass|BEGIN|"u"/, 'no credentials, certificates or keys');
    const doc = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(typeof doc.uptimeSeconds, 'number');
    delete doc.uptimeSeconds;
    const stats = { rx: { pkts: 0, bytes: 0, timestamp: 0 }, tx: { pkts: 0, bytes: 0, timestamp: 0 } };
    assert.deepEqual(doc, {
      // pkg/apis/v1 StunnerStatus, as stunnerctl decodes it
      version: 'v1',
      admin: { name: 'stunnerd-1', loglevel: 'all:INFO', healthcheck_endpoint: 'http://:8086', quota: '0',
        offload: 'None[all]', licensing_info: '{tier:free}' },
      auth: { type: 'static', realm: 'r', credentials: { username: '<redacted>', password: '<redacted>' } },
      listeners: [
        { name: 'udp-listener', protocol: 'TURN-UDP', public_address: '1.2.3.4', public_port: 3478, address: '0.0.0.0',
          port: 3478, routes: ['media-plane'], stats, allocations: 2, connections: 3 },
        { name: 'default/tcp-gateway/tcp-listener', protocol: 'TURN-TLS', address: '0.0.0.0', port: 443,
          routes: ['media-plane'], stats, allocations: 0, connections: 1 },
      ],
      clusters: [{ name: 'media-plane', type: 'STATIC', protocol: 'UDP', endpoints: ['10.0.0.0/8'], stats }],
      allocationCount: 2,
      status: 'READY',
      // ours
      buildVersion: '1.2.3',
      instanceId: PROCESS_INSTANCE_ID,
      configGeneration: 7,
    });
  });
});

test('admin servers: metrics and health on the same host:port share one server', async () => {
  const { server, port } = await freePort();
  server.close();
  await withTelemetry({ metrics_endpoint: `http://127.0.0.1:${port}/metrics`, healthcheck_endpoint: `http://127.0.0.1:${port}` },
    async (t) => {
      assert.equal(t.address(METRICS_FIELD)?.port, port);
      assert.equal(t.address(HEALTH_FIELD)?.port, port);
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await get(`${url}/metrics`)).status, 200);
      assert.equal((await get(`${url}/live`)).status, 200);
    });
});

test('admin servers: reconfigure restarts only the server whose endpoint changed', async () => {
  await withTelemetry({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: 'http://127.0.0.2:0' },
    async (t, _status, lines) => {
      const healthBefore = t.address(HEALTH_FIELD);
      const metricsBefore = t.address(METRICS_FIELD);
      assert.ok(healthBefore && metricsBefore);
      assert.notEqual(healthBefore.address, metricsBefore.address, 'two servers');

      // Only the metrics path changes: same server, new route.
      assert.deepEqual(await t.reconfigure({ metrics_endpoint: 'http://127.0.0.1:0/prom', healthcheck_endpoint: 'http://127.0.0.2:0' }), []);
      assert.equal(t.address(METRICS_FIELD)?.port, metricsBefore.port, 'metrics server kept');
      assert.equal((await get(`http://127.0.0.1:${metricsBefore.port}/prom`)).status, 200);
      assert.equal((await get(`http://127.0.0.1:${metricsBefore.port}/metrics`)).status, 404);

      // The metrics address changes: a new metrics server; the health server is untouched.
      const { server, port } = await freePort();
      server.close();
      assert.deepEqual(await t.reconfigure({ metrics_endpoint: `http://127.0.0.1:${port}/prom`, healthcheck_endpoint: 'http://127.0.0.2:0' }), []);
      assert.equal(t.address(METRICS_FIELD)?.port, port);
      assert.equal(t.address(HEALTH_FIELD)?.port, healthBefore.port, 'health server kept its port');
      assert.equal((await get(`http://127.0.0.2:${healthBefore.port}/live`)).status, 200);
      await assert.rejects(get(`http://127.0.0.1:${metricsBefore.port}/prom`), /ECONNREFUSED/, 'old metrics server closed');

      // Metrics off.
      assert.deepEqual(await t.reconfigure({ metrics_endpoint: '', healthcheck_endpoint: 'http://127.0.0.2:0' }), []);
      assert.equal(t.address(METRICS_FIELD), undefined);
      assert.equal(t.address(HEALTH_FIELD)?.port, healthBefore.port);
      assert.ok(lines.some((l) => l.includes(`admin.metrics_endpoint serving address=127.0.0.1:${port}`)), lines.join('\n'));
    });
});

test('admin servers: a port in use is reported with a code and the field, not thrown; a later reconfigure retries', async () => {
  const { server, port } = await freePort();
  const admin = { metrics_endpoint: `http://127.0.0.1:${port}/metrics`, healthcheck_endpoint: 'http://127.0.0.1:0' };
  const status = new FakeStatus();
  const { factory, lines } = capturingLogger();
  const t = new Telemetry({ registry: knownRegistry(), logger: factory, status, env: {} });
  try {
    const errors = await t.start(admin);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'ERR_ENDPOINT_BIND');
    assert.equal(errors[0].field, METRICS_FIELD);
    assert.match(errors[0].message, new RegExp(`^admin\\.metrics_endpoint: cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE$`));
    assert.ok(lines.some((l) => l.includes('ERROR') && l.includes('EADDRINUSE') && l.includes('code=ERR_ENDPOINT_BIND')));
    assert.ok(t.address(HEALTH_FIELD), 'the health server runs regardless');

    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.deepEqual(await t.reconfigure(admin), [], 'same endpoint, now free: bound on retry');
    assert.equal((await get(`http://127.0.0.1:${port}/metrics`)).status, 200);

    const bad = await t.reconfigure({ ...admin, healthcheck_endpoint: 'https://:8086' });
    assert.equal(bad.length, 1);
    assert.equal(bad[0].code, 'ERR_ENDPOINT_URL');
    assert.equal(bad[0].field, HEALTH_FIELD);
  } finally {
    server.close();
    await t.shutdown();
  }
});

test('admin servers: OTEL_METRICS_EXPORTER without prometheus vetoes the metrics endpoint (health still served)', async () => {
  await withTelemetry({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: 'http://127.0.0.1:0' },
    async (t, _status, lines) => {
      assert.equal(t.address(METRICS_FIELD), undefined);
      assert.ok(t.address(HEALTH_FIELD));
      assert.ok(lines.some((l) => l.includes('admin.metrics_endpoint is not served: OTEL_METRICS_EXPORTER does not list "prometheus"')),
        lines.join('\n'));
    }, { OTEL_METRICS_EXPORTER: 'none' });
});

test('admin servers: OTEL_SDK_DISABLED=true serves no metrics but keeps health', async () => {
  await withTelemetry({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: 'http://127.0.0.1:0' },
    async (t, status) => {
      assert.equal(t.address(METRICS_FIELD), undefined);
      status.isReady = true;
      assert.equal((await get(`${base(t, HEALTH_FIELD)}/ready`)).status, 200);
      await assert.rejects(t.prometheusText(), /OTEL_SDK_DISABLED=true/);
    }, { OTEL_SDK_DISABLED: 'true' });
});
