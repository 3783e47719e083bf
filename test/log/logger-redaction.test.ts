// Regression: only top-level field names were checked for secrets, so a nested object (a config section,
// a request summary) carried its password, secret or key into the log in both formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoggerFactory } from '../../src/log/logger.ts';

function logged(format: 'text' | 'json', fields: Record<string, unknown>): string {
  const lines: string[] = [];
  const logs = new LoggerFactory({ format, sink: (l) => lines.push(l), now: () => 0 });
  logs.get('test').info('event', fields);
  assert.equal(lines.length, 1);
  return lines[0];
}

const nested = {
  config: { auth: { type: 'static', credentials: { username: 'u', password: 'hunter2-pw' } } },
  listeners: [{ name: 'tls', cert: 'CERT-PEM-BODY', key: 'KEY-PEM-BODY' }],
  deep: { a: { b: { c: { d: { e: { f: { token: 'deep-token' } } } } } } },
};

for (const format of ['text', 'json'] as const) {
  test(`${format}: secrets in nested objects and arrays are redacted, the rest is kept`, () => {
    const line = logged(format, nested);
    for (const secret of ['hunter2-pw', 'CERT-PEM-BODY', 'KEY-PEM-BODY', 'deep-token']) {
      assert.equal(line.includes(secret), false, `${secret} in ${line}`);
    }
    assert.match(line, /"type":"static"/);
    assert.match(line, /"name":"tls"/);
    assert.match(line, /"credentials":"<redacted>"/);
  });
}

test('top-level secret fields, Errors and non-plain objects are handled as before', () => {
  const line = logged('json', { password: 'pw', error: new Error('boom'), when: new Date(0), n: 1 });
  assert.deepEqual(JSON.parse(line), {
    ts: '1970-01-01T00:00:00.000Z', level: 'INFO', scope: 'test', msg: 'event',
    password: '<redacted>', error: 'boom', when: '1970-01-01T00:00:00.000Z', n: 1,
  });
});
