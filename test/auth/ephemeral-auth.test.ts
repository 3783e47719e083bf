// `ephemeral` (alias `longterm`) authentication, the TURN REST API scheme: username `<expiry>[:<user-id>]`
// (or `<user-id>:<expiry>`), password base64(HMAC-SHA1(secret, username)), with an injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyBytes, longTermKey } from '../../src/stun/integrity.ts';
import {
  EphemeralAuthenticator, ephemeralPassword, parseEphemeralUsername,
} from '../../src/auth/ephemeral-auth.ts';
import { authenticatorFromConfig } from '../../src/auth/from-config.ts';

const SECRET = 's3cret';
const REALM = 'example.org';
const EXPIRY = 1_700_000_000;

// `printf '<username>' | openssl dgst -sha1 -hmac s3cret -binary | base64`
const passwords: Record<string, string> = {
  '1700000000:alice': 'TtElzSjT0GdnTQ9xdcRNxx96yQs=',
  'alice:1700000000': 'imbqQnHOcMAPP5V9vO2u5rvKS7k=',
  '1700000000': 'q+w4xPTJUDdpERozKOlEBw5B9Pg=',
};

for (const [username, password] of Object.entries(passwords)) {
  test(`the password of ${username} is base64(HMAC-SHA1(secret, username))`, () => {
    assert.equal(ephemeralPassword(SECRET, username), password);
  });
}

const forms: { username: string; userId: string; form: string }[] = [
  { username: '1700000000:alice', userId: 'alice', form: '<expiry>:<user>' },
  { username: 'alice:1700000000', userId: 'alice', form: 'the reverse <user>:<expiry>' },
  { username: '1700000000', userId: '1700000000', form: '<expiry> only: the username is the user id' },
  { username: '1700000000:', userId: '1700000000:', form: '<expiry>: with an empty user' },
  { username: '1700000000:team:alice', userId: 'team:alice', form: 'a user id with a colon' },
  { username: 'team:alice:1700000000', userId: 'team:alice', form: 'reverse, a user id with a colon' },
];

for (const f of forms) {
  test(`ephemeral ${f.form}: valid up to its expiry, user id "${f.userId}"`, () => {
    let now = (EXPIRY - 3600) * 1000;
    const auth = new EphemeralAuthenticator(SECRET, REALM, () => now);
    assert.deepEqual(parseEphemeralUsername(f.username), { expiry: EXPIRY, userId: f.userId });
    const r = auth.authenticate(f.username, REALM);
    assert.ok(typeof r !== 'string', String(r));
    assert.equal(r.userId, f.userId);
    assert.deepEqual(keyBytes(r.key), longTermKey(f.username, REALM, ephemeralPassword(SECRET, f.username)));
    now = EXPIRY * 1000;
    assert.ok(typeof auth.authenticate(f.username, REALM) !== 'string', 'valid at its expiry second');
    now += 1;
    assert.equal(auth.authenticate(f.username, REALM), 'expired');
  });
}

const malformed = ['alice', 'alice:bob', '', ':', 'x1700000000', '17e8:alice', '0x10:alice', 'alice:1700000000s'];

for (const username of malformed) {
  test(`ephemeral username ${JSON.stringify(username)} is malformed`, () => {
    assert.equal(parseEphemeralUsername(username), undefined);
    assert.equal(new EphemeralAuthenticator(SECRET, REALM, () => 0).authenticate(username, REALM), 'malformed-username');
  });
}

test('ephemeral: a wrong realm is an unknown user, even for a well-formed current username', () => {
  const auth = new EphemeralAuthenticator(SECRET, REALM, () => 0);
  assert.equal(auth.authenticate('1700000000:alice', 'example.com'), 'unknown-user');
});

test('ephemeral: the key depends on the secret, so a password from another secret fails integrity', () => {
  const auth = new EphemeralAuthenticator(SECRET, REALM, () => 0);
  const r = auth.authenticate('1700000000:alice', REALM);
  assert.ok(typeof r !== 'string');
  const forged = longTermKey('1700000000:alice', REALM, ephemeralPassword('other-secret', '1700000000:alice'));
  assert.notDeepEqual(r.key, forged);
});

test('authenticatorFromConfig builds the ephemeral authenticator from credentials.secret and the given clock', () => {
  let now = EXPIRY * 1000;
  const auth = authenticatorFromConfig({ type: 'ephemeral', realm: REALM, credentials: { secret: SECRET } }, () => now);
  const r = auth.authenticate('1700000000:alice', REALM);
  assert.ok(typeof r !== 'string');
  assert.equal(keyBytes(r.key).toString('hex'), longTermKey('1700000000:alice', REALM, passwords['1700000000:alice']).toString('hex'));
  now += 1000;
  assert.equal(auth.authenticate('1700000000:alice', REALM), 'expired');
});
