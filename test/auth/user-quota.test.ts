// admin.user_quota counts allocations per user id: with ephemeral credentials every username carries its own
// expiry, so the user id (not the username) is what the quota must count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EphemeralAuthenticator, ephemeralPassword } from '../../src/auth/ephemeral-auth.ts';
import { Core, REALM, codeOf } from '../turn/core/harness.ts';

const SECRET = 'quota-secret';

test('ephemeral usernames of one user id share its quota; other user ids have their own', async () => {
  const core = new Core({
    limits: { userQuota: 2 },
    authenticator: (clock) => new EphemeralAuthenticator(SECRET, REALM, clock),
  });
  const t = Math.floor(core.now / 1000) + 3600;
  const as = (username: string) => core.client(username, ephemeralPassword(SECRET, username));
  assert.equal(codeOf(await as(`${t}:alice`).allocateRequest()), 200);
  assert.equal(codeOf(await as(`alice:${t + 1}`).allocateRequest()), 200, 'the reverse form, same user id');
  assert.equal(codeOf(await as(`${t + 2}:alice`).allocateRequest()), 486);
  assert.equal(codeOf(await as(`${t}:bob`).allocateRequest()), 200);
  // `<expiry>`-only usernames: each username is its own user id.
  assert.equal(codeOf(await as(`${t}`).allocateRequest()), 200);
  assert.equal(codeOf(await as(`${t}`).allocateRequest()), 200);
  assert.equal(codeOf(await as(`${t}`).allocateRequest()), 486);
  assert.deepEqual([core.server.quota.usage('alice'), core.server.quota.usage('bob'), core.server.quota.usage(`${t}`)],
    [2, 1, 2]);
});
