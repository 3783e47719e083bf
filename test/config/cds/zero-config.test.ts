// The zero-config: a delete from the CDS server, and the bootstrap of stunnerd -w (upstream's IsConfigDeleted,
// IsZeroConfig), recognised by value after validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeleteConfig, isZeroConfig, zeroConfig, zeroConfigDocument } from '../../../src/config/cds/zero-config.ts';
import { loadConfigText } from '../../../src/config/load.ts';
import { validateConfig } from '../../../src/config/validate.ts';

const WIRE = '{"version":"v1","admin":{"name":"ns/gw"},"auth":{"type":"static","realm":"stunner.l7mp.io",' +
  '"credentials":{"password":"dummy-password","username":"dummy-username"}}}';

test('the zero-config as the server sends it is a delete, and the bootstrap config', () => {
  const c = loadConfigText(WIRE).config;
  assert.equal(isDeleteConfig(c), true);
  assert.equal(isZeroConfig(c), true);
  assert.deepEqual(c, zeroConfig('ns/gw'));
  assert.deepEqual(JSON.parse(WIRE), zeroConfigDocument('ns/gw'));
  assert.equal(c.admin.healthcheck_endpoint, 'http://:8086', 'the bootstrap serves health at the default');
});

test('a zero-config with another log level is the bootstrap config but not a delete; anything more is neither', () => {
  const loud = validateConfig({ ...zeroConfigDocument('ns/gw'), admin: { name: 'ns/gw', loglevel: 'all:DEBUG' } });
  assert.deepEqual([isDeleteConfig(loud), isZeroConfig(loud)], [false, true]);
  const withListener = validateConfig({ ...zeroConfigDocument('ns/gw'), listeners: [{ name: 'l', port: 3478 }] });
  assert.deepEqual([isDeleteConfig(withListener), isZeroConfig(withListener)], [false, false]);
  const otherUser = validateConfig({ ...zeroConfigDocument('ns/gw'), auth: { type: 'static', credentials: { username: 'u', password: 'p' } } });
  assert.deepEqual([isDeleteConfig(otherUser), isZeroConfig(otherUser)], [false, false]);
});
