import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfig } from '../../src/config/validate.ts';

describe('v1alpha1 stunnerd configs are converted to v1', () => {
  it('converts an upstream v1alpha1 plaintext config', () => {
    const { config, warnings } = checkConfig({
      version: 'v1alpha1',
      admin: { name: 'stunner-daemon', loglevel: 'all:INFO', metrics_endpoint: 'http://:8080/metrics' },
      auth: { type: 'plaintext', realm: 'stunner.l7mp.io', credentials: { username: 'user1', password: 'passwd1' } },
      listeners: [{ name: 'stunner-udp', protocol: 'UDP', port: 3478, public_address: '1.2.3.4', public_port: 3478, routes: ['media-plane'] }],
      clusters: [{ name: 'media-plane', type: 'STATIC', endpoints: ['10.0.0.0/8'] }],
    });
    assert.equal(config.version, 'v1');
    assert.equal(config.admin.metrics_endpoint, 'http://:8080/metrics');
    assert.deepEqual(config.auth, { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'user1', password: 'passwd1' } });
    assert.deepEqual(config.listeners[0], {
      name: 'stunner-udp', protocol: 'TURN-UDP', address: '0.0.0.0', port: 3478, public_address: '1.2.3.4', public_port: 3478,
      min_relay_port: 32768, max_relay_port: 65535, cert: '', key: '', routes: ['media-plane'],
    });
    assert.deepEqual(config.clusters[0], { name: 'media-plane', type: 'STATIC', protocol: 'UDP', endpoints: ['10.0.0.0/8'] });
    assert.deepEqual(warnings, [{ path: 'version', message: 'v1alpha1 is deprecated, converted to v1' }]);
  });

  it('converts longterm auth and keeps an explicit relay port range', () => {
    const { config } = checkConfig({
      version: 'v1alpha1',
      auth: { type: 'longterm', credentials: { secret: 'my-secret' } },
      listeners: [{ name: 'tcp', protocol: 'tcp', min_relay_port: 40000, max_relay_port: 40100 }],
    });
    assert.deepEqual(config.auth, { type: 'ephemeral', realm: 'stunner.l7mp.io', credentials: { secret: 'my-secret' } });
    assert.equal(config.listeners[0].protocol, 'TURN-TCP');
    assert.deepEqual([config.listeners[0].min_relay_port, config.listeners[0].max_relay_port], [40000, 40100]);
  });

  it('keeps reporting v1 problems by path', () => {
    const { warnings } = checkConfig({
      version: 'v1alpha1',
      auth: { credentials: { username: 'u', password: 'p' } },
      clusters: [{ name: 'c', protocol: 'TCP', endpoints: ['10.0.0.1'] }],
    });
    assert.deepEqual(warnings.map((w) => w.path), ['version', 'clusters[0].protocol']);
    assert.throws(() => checkConfig({ version: 'v1alpha1', auth: { type: 'longterm' } }),
      { code: 'ERR_CONFIG_INVALID', message: 'auth.credentials.secret: required for ephemeral auth' });
  });
});
