// The stunnerd admin endpoint URLs: `http://:8080/metrics` and friends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHttpEndpoint, formatBindAddress } from '../../src/telemetry/endpoint-url.ts';
import { EndpointError } from '../../src/telemetry/errors.ts';

const D = { port: 8080, path: '/metrics' };
const F = 'admin.metrics_endpoint';

const ok: [string, { host: string; port: number; path: string }][] = [
  ['http://:8080/metrics', { host: '', port: 8080, path: '/metrics' }],
  ['http://0.0.0.0:9090/m', { host: '', port: 9090, path: '/m' }],
  ['http://', { host: '', port: 8080, path: '/metrics' }],
  ['http://:8086', { host: '', port: 8086, path: '/metrics' }],
  ['http://127.0.0.1/', { host: '127.0.0.1', port: 8080, path: '/metrics' }],
  ['http://localhost:0/x/y', { host: 'localhost', port: 0, path: '/x/y' }],
  ['http://[::1]:9000/metrics', { host: '::1', port: 9000, path: '/metrics' }],
  ['http://[::]:9000', { host: '', port: 9000, path: '/metrics' }],
  ['HTTP://:8080/metrics ', { host: '', port: 8080, path: '/metrics' }],
];

for (const [url, want] of ok) {
  test(`endpoint url ${JSON.stringify(url)}`, () => {
    const e = parseHttpEndpoint(F, url, D);
    assert.deepEqual({ host: e.host, port: e.port, path: e.path }, want);
  });
}

test('endpoint url: equal interface and port give equal bind keys, whatever the path', () => {
  const a = parseHttpEndpoint(F, 'http://:8080/metrics', D);
  const b = parseHttpEndpoint('admin.healthcheck_endpoint', 'http://0.0.0.0:8080', D);
  const c = parseHttpEndpoint(F, 'http://127.0.0.1:8080/metrics', D);
  assert.equal(a.bindKey, b.bindKey);
  assert.notEqual(a.bindKey, c.bindKey);
});

const bad = ['https://:8080/metrics', ':8080', 'http://:99999/metrics', 'http://host:80?x=1', 'http://[zz]:80', 'tcp://:1'];
for (const url of bad) {
  test(`endpoint url rejected: ${JSON.stringify(url)}`, () => {
    assert.throws(() => parseHttpEndpoint(F, url, D), (err: unknown) => {
      assert.ok(err instanceof EndpointError);
      assert.equal(err.code, 'ERR_ENDPOINT_URL');
      assert.equal(err.field, F);
      assert.ok(err.message.startsWith(`${F}: `));
      return true;
    });
  });
}

test('formatBindAddress', () => {
  assert.equal(formatBindAddress({ host: '', port: 8080 }), '*:8080');
  assert.equal(formatBindAddress({ host: '::1', port: 1 }), '[::1]:1');
  assert.equal(formatBindAddress({ host: '10.0.0.1', port: 2 }), '10.0.0.1:2');
});
