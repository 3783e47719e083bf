// What upstream stunnerd v1.2.1 accepts in a config and this implementation used to reject: auth type none,
// listener address "localhost", the operator's node-address placeholder, $STUNNER_PORT's default, and the
// offload/license admin fields (validate.test.ts has their warnings).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authenticatorFromConfig } from '../../src/auth/from-config.ts';
import { loadConfigText } from '../../src/config/load.ts';
import { validateConfig } from '../../src/config/validate.ts';

const doc = (listener: Record<string, unknown>, extra: Record<string, unknown> = {}) => JSON.stringify({
  version: 'v1',
  auth: { type: 'static', credentials: { username: 'u', password: 'p' } },
  listeners: [{ name: 'l', protocol: 'TURN-UDP', port: 3478, routes: [], ...listener }],
  ...extra,
});

describe('upstream parity', () => {
  it('auth.type none: valid without credentials; nobody authenticates (STUN only, as upstream)', () => {
    const c = validateConfig({ version: 'v1', auth: { type: 'none' } });
    assert.deepEqual(c.auth, { type: 'none', realm: 'stunner.l7mp.io', credentials: {} });
    const auth = authenticatorFromConfig(c.auth);
    assert.equal(auth.authenticate('', 'stunner.l7mp.io'), 'unknown-user');
    assert.equal(auth.authenticate('u', 'stunner.l7mp.io'), 'unknown-user');
  });

  it('listener address "localhost" is 127.0.0.1, as upstream special-cases it', () => {
    assert.equal(loadConfigText(doc({ address: 'localhost' })).config.listeners[0].address, '127.0.0.1');
  });

  it("the operator's node-address placeholder left unpatched falls back to $STUNNER_ADDR, with a warning", () => {
    const { config, warnings } = loadConfigText(doc({ address: '__node_address_placeholder',
      public_address: '__node_address_placeholder' }), { env: { STUNNER_ADDR: '10.1.2.3' } });
    assert.equal(config.listeners[0].address, '10.1.2.3');
    assert.equal(config.listeners[0].public_address, '');
    assert.deepEqual(warnings.map((w) => w.path), ['listeners[0].address']);
    assert.match(warnings[0].message, /not replaced by the config discovery server \(is STUNNER_NODENAME set\?\)/);
    // No STUNNER_ADDR either: as upstream after expanding an unset variable, the default 0.0.0.0.
    assert.equal(loadConfigText(doc({ address: '__node_address_placeholder' }), { env: {} }).config.listeners[0].address,
      '0.0.0.0');
  });

  it('$STUNNER_PORT defaults to STUNNER_PUBLIC_PORT, else 3478, when unset or not a number', () => {
    const port = (env: Record<string, string>) => loadConfigText(doc({ port: '$STUNNER_PORT' }), { env }).config.listeners[0].port;
    assert.equal(port({}), 3478);
    assert.equal(port({ STUNNER_PUBLIC_PORT: '3479' }), 3479);
    assert.equal(port({ STUNNER_PORT: '4000', STUNNER_PUBLIC_PORT: '3479' }), 4000);
    assert.equal(port({ STUNNER_PORT: 'x', STUNNER_PUBLIC_PORT: 'y' }), 3478);
  });

  it('offload_engine: None/XDP/TC/Auto accepted (case-insensitive), anything else rejected as upstream does', () => {
    for (const engine of ['None', 'xdp', 'TC', 'auto']) {
      assert.doesNotThrow(() => loadConfigText(doc({}, { admin: { offload_engine: engine } })));
    }
    assert.throws(() => loadConfigText(doc({}, { admin: { offload_engine: 'eBPF' } })),
      /admin\.offload_engine: must be None, XDP, TC or Auto, got "eBPF"/);
  });
});
