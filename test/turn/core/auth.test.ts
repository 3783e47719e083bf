// The long-term credential checks of RFC 8489 §9.2.4 on the pure core: 401, 400, 438 and 441, and what the
// answers carry (REALM/NONCE without MESSAGE-INTEGRITY on a challenge; MESSAGE-INTEGRITY and FINGERPRINT on
// authenticated answers). Binding needs no credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attr, Method } from '../../../src/stun/constants.ts';
import { XorMappedAddress } from '../../../src/stun/attributes/address.ts';
import { Lifetime } from '../../../src/stun/attributes/numeric.ts';
import { Nonce, Realm } from '../../../src/stun/attributes/text.ts';
import { longTermKey, verifyMessageIntegrity } from '../../../src/stun/integrity.ts';
import type { StunMessage } from '../../../src/stun/message.ts';
import { EphemeralAuthenticator, ephemeralPassword } from '../../../src/auth/ephemeral-auth.ts';
import { NONCE_LIFETIME_S } from '../../../src/turn/timers.ts';
import { UserTable } from './fakes.ts';
import { ALICE, CLIENT_IP, Core, REALM, codeOf, plainRequest } from './harness.ts';

function assertChallenge(res: StunMessage, code: 401 | 438): void {
  assert.equal(codeOf(res), code);
  assert.equal(res.get(Realm), REALM, 'a challenge carries REALM');
  assert.ok((res.get(Nonce) ?? '').length > 0, 'a challenge carries NONCE');
  assert.equal(res.integrityOffset, -1, 'a challenge carries no MESSAGE-INTEGRITY');
}

test('Allocate without MESSAGE-INTEGRITY: 401 with REALM and NONCE, no MESSAGE-INTEGRITY', async () => {
  const core = new Core();
  const res = await core.client().challenge();
  assertChallenge(res, 401);
  assert.deepEqual(core.requests(), { 'allocate 401': 1 });
});

const rejected401: { name: string; sign: { username?: string; password?: string } }[] = [
  { name: 'wrong password', sign: { password: 'not-the-password' } },
  { name: 'unknown user', sign: { username: 'mallory' } },
];

for (const c of rejected401) {
  test(`Allocate with ${c.name}: 401 challenge`, async () => {
    const core = new Core();
    const client = core.client();
    const res = await client.allocateRequest(() => {}, c.sign);
    assertChallenge(res, 401);
    assert.equal(core.stats.allocationsActive, 0);
    assert.deepEqual(core.requests(), { 'allocate 401': 2 });
  });
}

test('ephemeral credentials: an expired username is answered 401, a current one allocates', async () => {
  const secret = 'rest-api-secret';
  const core = new Core({ authenticator: (clock) => new EphemeralAuthenticator(secret, REALM, clock) });
  const nowS = Math.floor(core.now / 1000);
  const expired = `${nowS - 1}:alice`;
  const stale = core.client(expired, ephemeralPassword(secret, expired));
  assertChallenge(await stale.allocateRequest(), 401);

  const current = `${nowS + 60}:alice`;
  const fresh = core.client(current, ephemeralPassword(secret, current));
  assert.equal(codeOf(await fresh.allocateRequest()), 200);
  // The same username, once the clock passes its expiry, no longer authenticates a Refresh.
  core.now += 61_000;
  assertChallenge(await fresh.request(Method.refresh), 401);
});

const missing400: { name: string; omit: 'username' | 'realm' | 'nonce' }[] = [
  { name: 'USERNAME', omit: 'username' },
  { name: 'REALM', omit: 'realm' },
  { name: 'NONCE', omit: 'nonce' },
];

for (const c of missing400) {
  test(`MESSAGE-INTEGRITY without ${c.name}: 400`, async () => {
    const core = new Core();
    const client = core.client();
    const res = await client.allocateRequest(() => {}, { [c.omit]: null });
    assert.equal(codeOf(res), 400);
    assert.equal(res.integrityOffset, -1, 'not authenticated, so not signed');
    assert.equal(core.stats.allocationsActive, 0);
  });
}

test('a nonce older than NONCE_LIFETIME_S is stale: 438 with a fresh NONCE, which then works', async () => {
  const core = new Core();
  const client = core.client();
  client.renewStaleNonce = false;
  await client.challenge();
  core.now += NONCE_LIFETIME_S * 1000;
  // Exactly at the lifetime the nonce is still good: the Refresh gets past authentication to 437 (no allocation).
  assert.equal(codeOf(await client.request(Method.refresh)), 437);
  core.now += 1000;
  const res = await client.allocateRequest();
  assertChallenge(res, 438);
  assert.notEqual(res.get(Nonce), client.nonce);
  client.nonce = res.get(Nonce);
  assert.equal(codeOf(await client.allocateRequest()), 200);
  assert.deepEqual(core.requests(), { 'allocate 401': 1, 'refresh 437': 1, 'allocate 438': 1, 'allocate 200': 1 });
});

const forged: { name: string; nonce: (real: string) => string }[] = [
  { name: 'made up', nonce: () => 'bm90LWEtbm9uY2UtYXQtYWxs' },
  { name: 'one character changed', nonce: (real) => flipLastChar(real) },
  { name: 'empty', nonce: () => '' },
];

function flipLastChar(s: string): string {
  const last = s.at(-1) === 'A' ? 'B' : 'A';
  return s.slice(0, -1) + last;
}

for (const c of forged) {
  test(`a forged nonce (${c.name}) is answered 438`, async () => {
    const core = new Core();
    const client = core.client();
    await client.challenge();
    assertChallenge(await client.allocateRequest(() => {}, { nonce: c.nonce(client.nonce!) }), 438);
    assert.equal(core.stats.allocationsActive, 0);
  });
}

test('a nonce issued to another client address is answered 438', async () => {
  const core = new Core();
  const a = core.client(ALICE.username, ALICE.password, CLIENT_IP);
  const b = core.client(ALICE.username, ALICE.password, '203.0.113.9');
  await a.challenge();
  await b.challenge();
  assertChallenge(await b.allocateRequest(() => {}, { nonce: a.nonce }), 438);
});

test('441: a request on an allocation signed by another valid user', async () => {
  const core = new Core({ authenticator: () => new UserTable(REALM, { alice: 'a-pass', bob: 'b-pass' }) });
  const alice = core.client('alice', 'a-pass');
  await alice.allocate();
  const bobKey = longTermKey('bob', REALM, 'b-pass');
  for (const method of [Method.refresh, Method.createPermission, Method.channelBind, Method.allocate]) {
    const res = await alice.request(method, () => {}, { username: 'bob', password: 'b-pass' });
    assert.equal(codeOf(res), 441, `method 0x${method.toString(16)}`);
    assert.ok(verifyMessageIntegrity(res, bobKey), '441 is signed with the key that authenticated the request');
  }
  // The allocation is untouched and still answers its owner.
  assert.equal(codeOf(await alice.request(Method.refresh)), 200);
  assert.equal(core.stats.allocationsActive, 1);
});

test('Binding is answered with XOR-MAPPED-ADDRESS without authentication', async () => {
  const core = new Core();
  const client = core.client();
  const res = await client.exchange(plainRequest(Method.binding));
  assert.equal(codeOf(res), 200);
  assert.deepEqual(res.get(XorMappedAddress), { family: 4, address: CLIENT_IP, port: client.link.remotePort });
  assert.equal(res.fingerprintOffset, -1, 'no FINGERPRINT when the request had none');
  const fp = await client.exchange(plainRequest(Method.binding, () => {}, true));
  assert.ok(fp.fingerprintOffset >= 0, 'FINGERPRINT when the request had one');
  assert.deepEqual(core.requests(), { 'binding 200': 2 });
});

test('authenticated answers carry MESSAGE-INTEGRITY under the key, and FINGERPRINT when the request did', async () => {
  const core = new Core();
  const client = core.client();
  await client.challenge();
  const withFp = await client.exchange(client.signed(Method.allocate, (w) => {
    w.addRaw(Attr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0));
  }, { fingerprint: true }));
  assert.equal(codeOf(withFp), 200);
  assert.ok(verifyMessageIntegrity(withFp, client.key));
  assert.ok(withFp.fingerprintOffset > withFp.integrityOffset, 'FINGERPRINT last, after MESSAGE-INTEGRITY');
  assert.ok(!verifyMessageIntegrity(withFp, longTermKey(ALICE.username, REALM, 'other')));

  const plain = await client.request(Method.refresh, (w) => w.add(Lifetime, 600));
  assert.ok(verifyMessageIntegrity(plain, client.key));
  assert.equal(plain.fingerprintOffset, -1);
  // Error answers to authenticated requests are signed too (here 437: a second Allocate).
  const err = await client.allocateRequest(() => {}, { fingerprint: true });
  assert.equal(codeOf(err), 437);
  assert.ok(verifyMessageIntegrity(err, client.key));
  assert.ok(err.fingerprintOffset >= 0);
});
