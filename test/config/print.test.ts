import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { printConfig, redactConfig, REDACTED } from '../../src/config/print.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { CERT_B64, KEY_B64 } from './helpers.ts';

const SECRETS = ['pass-word-1', 'shared-s3cr3t'];

function tlsConfig(auth: Record<string, unknown>) {
  return validateConfig({
    version: 'v1',
    auth,
    listeners: [
      { name: 'tls', protocol: 'TURN-TLS', cert: CERT_B64, key: KEY_B64, routes: ['c'] },
      { name: 'udp', protocol: 'TURN-UDP', routes: ['c'] },
    ],
    clusters: [{ name: 'c', endpoints: ['10.0.0.0/8'] }],
  });
}
const statik = tlsConfig({ type: 'static', credentials: { username: 'alice', password: SECRETS[0] } });
const ephemeral = tlsConfig({ type: 'ephemeral', credentials: { secret: SECRETS[1] } });

describe('printConfig hides secrets', () => {
  for (const [name, config] of [['static', statik], ['ephemeral', ephemeral]] as const) {
    for (const format of ['yaml', 'json'] as const) {
      it(`${name} auth as ${format}: no password, secret, certificate or key`, () => {
        const text = printConfig(config, format);
        for (const secret of [...SECRETS, 'BEGIN', CERT_B64.slice(0, 20), KEY_B64.slice(0, 20)]) {
          assert.ok(!text.includes(secret), `${secret} leaked`);
        }
        const doc = format === 'json' ? JSON.parse(text) : parse(text);
        assert.deepEqual(doc, redactConfig(config));
      });
    }
  }

  it('redacts password, secret, cert and key, keeps the username and empty values', () => {
    const r = redactConfig(statik) as { auth: { credentials: object }; listeners: Array<{ cert: string; key: string }> };
    assert.deepEqual(r.auth.credentials, { username: 'alice', password: REDACTED });
    assert.deepEqual(r.listeners.map((l) => [l.cert, l.key]), [[REDACTED, REDACTED], ['', '']]);
    assert.deepEqual((redactConfig(ephemeral) as { auth: { credentials: object } }).auth.credentials, { secret: REDACTED });
  });

  it('prints everything else in the file format', () => {
    const doc = parse(printConfig(statik)) as {
      admin: { healthcheck_endpoint: string; limits: Record<string, number> }; listeners: unknown[]; clusters: unknown[];
    };
    assert.deepEqual(Object.keys(doc), ['version', 'admin', 'auth', 'listeners', 'clusters']);
    assert.equal(doc.admin.healthcheck_endpoint, 'http://:8086');
    assert.deepEqual(doc.admin.limits, statik.admin.limits);
    assert.deepEqual(doc.listeners[1], { ...statik.listeners[1], routes: ['c'] });
    assert.deepEqual(doc.clusters, [{ name: 'c', type: 'STATIC', protocol: 'UDP', endpoints: ['10.0.0.0/8'] }]);
  });

  it('does not change the config it prints', () => {
    printConfig(statik);
    assert.equal(statik.auth.credentials.password, SECRETS[0]);
    assert.ok(statik.listeners[0].cert.startsWith('-----BEGIN CERTIFICATE-----'));
  });
});
