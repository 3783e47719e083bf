import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseEndpoint } from '../../src/config/http-endpoint.ts';
import { parseStaticEndpoint } from '../../src/config/cluster-endpoint.ts';
import { formatIpBytes, maskIpBytes, parseIpBytes } from '../../src/config/ip-address.ts';
import { DEFAULT_HEALTHCHECK_PORT, DEFAULT_METRICS_PATH, DEFAULT_METRICS_PORT } from '../../src/config/defaults.ts';

const METRICS = { port: DEFAULT_METRICS_PORT, path: DEFAULT_METRICS_PATH };
const HEALTH = { port: DEFAULT_HEALTHCHECK_PORT, path: '/' };

describe('parseEndpoint (metrics and health-check servers)', () => {
  const cases: Array<[string, typeof METRICS, { host: string; port: number; path: string }]> = [
    ['http://:8080/metrics', METRICS, { host: '', port: 8080, path: '/metrics' }],
    ['http://:8086', HEALTH, { host: '', port: 8086, path: '/' }],
    ['http://', METRICS, { host: '', port: 8080, path: '/metrics' }],
    ['http://0.0.0.0:9000/m', METRICS, { host: '0.0.0.0', port: 9000, path: '/m' }],
    ['http://127.0.0.1', HEALTH, { host: '127.0.0.1', port: 8086, path: '/' }],
    ['http://[::1]:9100/x/y', METRICS, { host: '::1', port: 9100, path: '/x/y' }],
    ['HTTP://localhost:81/', METRICS, { host: 'localhost', port: 81, path: '/' }],
    ['http://:/metrics', METRICS, { host: '', port: 8080, path: '/metrics' }],
  ];
  for (const [url, defaults, want] of cases) {
    it(url, () => assert.deepEqual(parseEndpoint(url, defaults), want));
  }

  const bad: Array<[string, string]> = [
    ['https://:8080', 'must be http://[host][:port][/path], got "https://:8080"'],
    [':8080', 'must be http://[host][:port][/path], got ":8080"'],
    ['http://:0', 'port must be 1..65535, got "0"'],
    ['http://:http', 'port must be 1..65535, got "http"'],
    ['http://[::g]:80', 'host must be an IP address or host name, got "[::g]"'],
    ['http://bad_host!:80', 'host must be an IP address or host name, got "bad_host!"'],
  ];
  for (const [url, message] of bad) {
    it(`rejects ${url}`, () => {
      assert.throws(() => parseEndpoint(url, METRICS, 'admin.metrics_endpoint'),
        { name: 'ConfigError', code: 'ERR_CONFIG_INVALID', path: 'admin.metrics_endpoint', message: `admin.metrics_endpoint: ${message}` });
    });
  }
});

describe('parseStaticEndpoint', () => {
  it('gives family, network, prefix and port range', () => {
    assert.deepEqual(parseStaticEndpoint('10.1.2.3/8:<100-200>'), {
      family: 4, address: '10.0.0.0', prefixLength: 8, minPort: 100, maxPort: 200, text: '10.0.0.0/8:<100-200>',
    });
    assert.deepEqual(parseStaticEndpoint(' 2001:DB8::1 '), {
      family: 6, address: '2001:db8::1', prefixLength: 128, minPort: 1, maxPort: 65535, text: '2001:db8::1',
    });
    assert.deepEqual(parseStaticEndpoint('::ffff:192.0.2.1/120'), {
      family: 6, address: '::ffff:192.0.2.0', prefixLength: 120, minPort: 1, maxPort: 65535, text: '::ffff:192.0.2.0/120',
    });
  });
  it('returns a reason for bad input', () => {
    assert.equal(typeof parseStaticEndpoint('10.0.0.0/'), 'string');
    assert.equal(typeof parseStaticEndpoint('10.0.0.1:<0-5>'), 'string');
    assert.equal(typeof parseStaticEndpoint('host.example:<1-5>'), 'string');
  });
});

describe('IP address bytes', () => {
  const roundTrips: Array<[string, string]> = [
    ['0.0.0.0', '0.0.0.0'], ['255.255.255.255', '255.255.255.255'],
    ['::', '::'], ['::1', '::1'], ['1::', '1::'], ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'], ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'], ['::1.2.3.4', '::1.2.3.4'], ['fe80::1:2', 'fe80::1:2'],
  ];
  for (const [input, want] of roundTrips) {
    it(`${input} -> ${want} (RFC 5952)`, () => assert.equal(formatIpBytes(parseIpBytes(input) as Uint8Array), want));
  }
  it('masks host bits', () => {
    assert.equal(formatIpBytes(maskIpBytes(parseIpBytes('192.168.255.255') as Uint8Array, 17)), '192.168.128.0');
    assert.equal(formatIpBytes(maskIpBytes(parseIpBytes('ffff::ffff') as Uint8Array, 4)), 'f000::');
    assert.equal(formatIpBytes(maskIpBytes(parseIpBytes('1.2.3.4') as Uint8Array, 0)), '0.0.0.0');
  });
  it('rejects non-addresses', () => {
    assert.equal(parseIpBytes('1.2.3'), undefined);
    assert.equal(parseIpBytes('example.com'), undefined);
  });
});
