import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectConfig } from '../../src/config/diff.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { selfSignedCertificate } from '../../src/config/self-signed.ts';
import { CERT_B64, KEY_B64 } from './helpers.ts';

type Raw = Record<string, unknown>;

function config(patch: (c: Raw & { listeners: Raw[]; clusters: Raw[]; admin: Raw; auth: Raw & { credentials: Raw } }) => void) {
  const c = {
    version: 'v1',
    admin: { loglevel: 'all:INFO', metrics_endpoint: 'http://:8080/metrics' },
    auth: { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'u', password: 'p' } },
    listeners: [
      { name: 'udp', protocol: 'TURN-UDP', port: 3478, public_address: '1.2.3.4', routes: ['media'] },
      { name: 'tls', protocol: 'TURN-TLS', port: 443, cert: CERT_B64, key: KEY_B64, routes: ['media'] },
    ],
    clusters: [{ name: 'media', endpoints: ['10.0.0.0/8'] }, { name: 'dns', type: 'STRICT_DNS', endpoints: ['media.svc'] }],
  };
  patch(c);
  return validateConfig(c);
}
const base = config(() => {});

describe('inspectConfig: the reconfiguration table', () => {
  it('an identical config changes nothing', () => {
    const plan = inspectConfig(base, config(() => {}));
    assert.equal(plan.changed, false);
    assert.equal(plan.auth, 'none');
    assert.deepEqual(plan.listeners.map((l) => l.action), ['none', 'none']);
    assert.deepEqual(plan.clusters.map((c) => c.action), ['none', 'none']);
    assert.deepEqual(Object.values(plan.admin), ['none', 'none', 'none', 'none', 'none', 'none']);
  });

  const listenerCases: Array<[string, (c: Raw & { listeners: Raw[] }) => void, string, string[]]> = [
    ['routes: live', (c) => { c.listeners[0].routes = ['media', 'dns']; }, 'reconcile', ['routes']],
    ['public address: live', (c) => { c.listeners[0].public_address = '5.6.7.8'; }, 'reconcile', ['public_address']],
    ['public port: live', (c) => { c.listeners[0].public_port = 3479; }, 'reconcile', ['public_port']],
    ['relay port range: live (new allocations)', (c) => { c.listeners[0].min_relay_port = 50000; }, 'reconcile', ['min_relay_port', 'max_relay_port']],
    ['protocol: restart', (c) => { c.listeners[0].protocol = 'TURN-TCP'; }, 'restart', ['protocol']],
    ['address: restart', (c) => { c.listeners[0].address = '127.0.0.1'; }, 'restart', ['address']],
    ['port: restart', (c) => { c.listeners[0].port = 3479; }, 'restart', ['port']],
    ['port and routes: restart', (c) => { c.listeners[0].port = 3479; c.listeners[0].routes = []; }, 'restart', ['port', 'routes']],
  ];
  for (const [name, patch, action, fields] of listenerCases) {
    it(`listener ${name}`, () => {
      const plan = inspectConfig(base, config(patch));
      assert.deepEqual(plan.listeners, [{ name: 'udp', action, fields }, { name: 'tls', action: 'none', fields: [] }]);
      assert.equal(plan.auth, 'none');
      assert.equal(plan.changed, true);
    });
  }

  it('listener cert/key: live (new handshakes); a protocol change restarts', () => {
    const pair = selfSignedCertificate('turn.example.com');
    const plan = inspectConfig(base, config((c) => { c.listeners[1].cert = pair.cert; c.listeners[1].key = pair.key; }));
    assert.deepEqual(plan.listeners, [{ name: 'udp', action: 'none', fields: [] }, { name: 'tls', action: 'reconcile', fields: ['cert', 'key'] }]);
    const dtls = config((c) => { c.listeners[1].protocol = 'TURN-DTLS'; });
    const rotated = inspectConfig(dtls, config((c) => {
      c.listeners[1].protocol = 'TURN-DTLS'; c.listeners[1].cert = pair.cert; c.listeners[1].key = pair.key;
    }));
    assert.deepEqual(rotated.listeners[1], { name: 'tls', action: 'reconcile', fields: ['cert', 'key'] });
    const other = inspectConfig(config((c) => { c.listeners[1].protocol = 'TURN-DTLS'; }), base);
    assert.deepEqual(other.listeners, [{ name: 'udp', action: 'none', fields: [] }, { name: 'tls', action: 'restart', fields: ['protocol'] }]);
  });

  it('the same PEM written raw instead of base64 is no change', () => {
    const raw = (s: string) => Buffer.from(s, 'base64').toString();
    const plan = inspectConfig(base, config((c) => { c.listeners[1].cert = raw(CERT_B64); c.listeners[1].key = raw(KEY_B64); }));
    assert.equal(plan.changed, false);
  });

  it('listener added and removed', () => {
    const plan = inspectConfig(base, config((c) => { c.listeners = [c.listeners[1], { name: 'tcp', protocol: 'TURN-TCP' }]; }));
    assert.deepEqual(plan.listeners, [
      { name: 'tls', action: 'none', fields: [] },
      { name: 'tcp', action: 'add', fields: [] },
      { name: 'udp', action: 'remove', fields: [] },
    ]);
  });

  it('cluster endpoints, type, protocol: live; clusters added and removed', () => {
    const plan = inspectConfig(base, config((c) => {
      c.clusters = [{ name: 'media', protocol: 'TCP', endpoints: ['10.0.0.0/8', '192.168.0.0/16'] }, { name: 'new', endpoints: ['1.1.1.1'] }];
    }));
    assert.deepEqual(plan.clusters, [
      { name: 'media', action: 'reconcile', fields: ['protocol', 'endpoints'] },
      { name: 'new', action: 'add', fields: [] },
      { name: 'dns', action: 'remove', fields: [] },
    ]);
    assert.deepEqual(plan.listeners.map((l) => l.action), ['none', 'none']);
  });

  const authCases: Array<[string, (c: { auth: Raw & { credentials: Raw } }) => void]> = [
    ['password', (c) => { c.auth.credentials.password = 'q'; }],
    ['username', (c) => { c.auth.credentials.username = 'v'; }],
    ['type and credentials', (c) => { c.auth = { type: 'ephemeral', realm: 'stunner.l7mp.io', credentials: { secret: 's' } }; }],
  ];
  for (const [name, patch] of authCases) {
    it(`auth ${name}: live, no listener restarts`, () => {
      const plan = inspectConfig(base, config(patch));
      assert.equal(plan.auth, 'reconcile');
      assert.deepEqual(plan.listeners.map((l) => l.action), ['none', 'none']);
    });
  }

  it('auth realm: every listener restarts', () => {
    const plan = inspectConfig(base, config((c) => { c.auth.realm = 'example.org'; c.listeners[0].routes = []; }));
    assert.equal(plan.auth, 'restart-all');
    assert.deepEqual(plan.listeners, [
      { name: 'udp', action: 'restart', fields: ['routes', 'auth.realm'] },
      { name: 'tls', action: 'restart', fields: ['auth.realm'] },
    ]);
  });

  const adminCases: Array<[string, Raw, Record<string, string>]> = [
    ['loglevel', { loglevel: 'all:DEBUG' }, { loglevel: 'reconcile' }],
    ['user_quota', { user_quota: 5 }, { user_quota: 'reconcile' }],
    ['limits', { limits: { max_allocations: 100 } }, { limits: 'reconcile' }],
    ['name', { name: 'other' }, { name: 'reconcile' }],
    ['metrics endpoint', { metrics_endpoint: 'http://:9090/metrics' }, { metrics_endpoint: 'restart' }],
    ['metrics off', { metrics_endpoint: '' }, { metrics_endpoint: 'restart' }],
    ['health endpoint', { healthcheck_endpoint: 'http://127.0.0.1:8087' }, { healthcheck_endpoint: 'restart' }],
    ['health off', { healthcheck_endpoint: '' }, { healthcheck_endpoint: 'restart' }],
  ];
  for (const [name, admin, want] of adminCases) {
    it(`admin ${name}`, () => {
      const plan = inspectConfig(base, config((c) => { c.admin = { ...c.admin, ...admin }; }));
      const expected = { name: 'none', loglevel: 'none', user_quota: 'none', limits: 'none', metrics_endpoint: 'none', healthcheck_endpoint: 'none', ...want };
      assert.deepEqual(plan.admin, expected);
      assert.equal(plan.auth, 'none');
      assert.deepEqual([...plan.listeners, ...plan.clusters].map((x) => x.action), ['none', 'none', 'none', 'none']);
      assert.equal(plan.changed, true);
    });
  }
});
