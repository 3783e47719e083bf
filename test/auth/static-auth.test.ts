// `static` (alias `plaintext`) authentication: one username and password from the config; the key is the
// RFC 8489 §9.2.2 long-term key MD5(username ":" realm ":" password).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyBytes } from '../../src/stun/integrity.ts';
import { StaticAuthenticator } from '../../src/auth/static-auth.ts';
import { authenticatorFromConfig } from '../../src/auth/from-config.ts';

// `printf 'alice:example.org:pw' | md5sum`
const KEY = 'db25ea610c2a955b77b272273cbe886b';

test('the configured user in the configured realm gets the long-term key; the user id is the username', () => {
  const r = new StaticAuthenticator('alice', 'pw', 'example.org').authenticate('alice', 'example.org');
  assert.ok(typeof r !== 'string');
  assert.equal(keyBytes(r.key).toString('hex'), KEY);
  assert.equal(r.userId, 'alice');
});

const rejected: { username: string; realm: string; why: string }[] = [
  { username: 'bob', realm: 'example.org', why: 'another user' },
  { username: 'Alice', realm: 'example.org', why: 'usernames are case-sensitive' },
  { username: 'alice', realm: 'example.com', why: 'wrong realm' },
  { username: 'alice', realm: '', why: 'empty realm' },
  { username: '', realm: 'example.org', why: 'empty username' },
];

for (const r of rejected) {
  test(`static: ${r.why} is an unknown user`, () => {
    assert.equal(new StaticAuthenticator('alice', 'pw', 'example.org').authenticate(r.username, r.realm), 'unknown-user');
  });
}

test('authenticatorFromConfig builds the static authenticator from credentials.username/password', () => {
  const auth = authenticatorFromConfig({
    type: 'static', realm: 'example.org', credentials: { username: 'alice', password: 'pw' },
  });
  const r = auth.authenticate('alice', 'example.org');
  assert.ok(typeof r !== 'string');
  assert.equal(keyBytes(r.key).toString('hex'), KEY);
  assert.equal(auth.authenticate('alice', 'other.org'), 'unknown-user');
});
