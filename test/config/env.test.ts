import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expandConfigEnv, expandString } from '../../src/config/env.ts';

const env = { STUNNER_ADDR: '10.0.0.5', PORT: '3479', EMPTY: '', A_1: 'x', '1': 'one', '*': 'star' };

describe('expandString follows Go os.ExpandEnv', () => {
  const cases: Array<[string, string]> = [
    ['$STUNNER_ADDR', '10.0.0.5'],
    ['${STUNNER_ADDR}', '10.0.0.5'],
    ['addr=${STUNNER_ADDR}:$PORT', 'addr=10.0.0.5:3479'],
    ['$UNSET', ''],
    ['${UNSET}', ''],
    ['$EMPTY', ''],
    ['$A_1-b', 'x-b'],
    ['$STUNNER_ADDRx', ''], // the name runs to the last name character
    ['${STUNNER_ADDR}x', '10.0.0.5x'],
    ['$1abc', 'oneabc'], // a digit is a one-character special name
    ['${*}', 'star'],
    ['price: 5$', 'price: 5$'], // trailing "$" stays
    ['a $ b', 'a $ b'], // "$" before a non-name stays
    ['${}x', 'x'], // bad syntax is eaten
    ['${open', 'open'],
    ['no dollars', 'no dollars'],
    ['$$', ''], // "$$" is the special variable "$", unset here
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => assert.equal(expandString(input, env), want));
  }
});

describe('expandConfigEnv', () => {
  it('expands every string in the document, in maps and lists', () => {
    const raw = {
      version: 'v1',
      admin: { name: '$POD', metrics_endpoint: 'http://:${MPORT}/metrics' },
      listeners: [{ name: 'l', address: '$STUNNER_ADDR', port: '${PORT}', routes: ['$ROUTE'] }],
      clusters: [{ name: 'c', endpoints: ['${NET}/8'] }],
    };
    const got = expandConfigEnv(raw, { POD: 'pod-1', MPORT: '9090', STUNNER_ADDR: '10.0.0.5', PORT: '3479', ROUTE: 'c', NET: '10.0.0.0' });
    assert.deepEqual(got, {
      version: 'v1',
      admin: { name: 'pod-1', metrics_endpoint: 'http://:9090/metrics' },
      listeners: [{ name: 'l', address: '10.0.0.5', port: '3479', routes: ['c'] }],
      clusters: [{ name: 'c', endpoints: ['10.0.0.0/8'] }],
    });
  });

  it('leaves auth.credentials alone, but expands the rest of auth', () => {
    const raw = { auth: { realm: '$REALM', credentials: { username: '$USER', password: 'pa$$word', secret: '${S}' } } };
    assert.deepEqual(expandConfigEnv(raw, { REALM: 'example.org', USER: 'root', S: 'x' }), {
      auth: { realm: 'example.org', credentials: { username: '$USER', password: 'pa$$word', secret: '${S}' } },
    });
  });

  it('does not change its input, and passes non-strings through', () => {
    const raw = { a: '$X', b: 3, c: null, d: true, e: [1, '$X'] };
    const copy = structuredClone(raw);
    assert.deepEqual(expandConfigEnv(raw, { X: 'y' }), { a: 'y', b: 3, c: null, d: true, e: [1, 'y'] });
    assert.deepEqual(raw, copy);
  });

  it('reads process.env by default', () => {
    process.env.STUNNER_CONFIG_TEST_VAR = 'from-process';
    try {
      assert.deepEqual(expandConfigEnv({ a: '$STUNNER_CONFIG_TEST_VAR' }), { a: 'from-process' });
    } finally {
      delete process.env.STUNNER_CONFIG_TEST_VAR;
    }
  });
});
