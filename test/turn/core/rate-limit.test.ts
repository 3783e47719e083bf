// The per-source budget of unauthenticated answers (401/438, admin.limits.unauthenticated_rate): beyond it
// challenges are dropped and counted rate_limited, so forged-source requests cannot make a reflector of the
// gateway; the budget refills with the (fake) clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Method, TRANSPORT_UDP } from '../../../src/stun/constants.ts';
import { RequestedTransport } from '../../../src/stun/attributes/numeric.ts';
import { DROP } from '../../../src/stats/listener-stats.ts';
import { ALICE, Core, codeOf, plainRequest } from './harness.ts';

const RATE = 5;
/** The bucket holds two seconds' worth. */
const BURST = 2 * RATE;

const unauthenticated = () => plainRequest(Method.allocate, (w) => w.add(RequestedTransport, TRANSPORT_UDP));

test('401s beyond unauthenticated_rate per source IP are dropped and counted; they recover with time', async () => {
  const core = new Core({ limits: { unauthenticatedRate: RATE } });
  // Many source ports of one IP share the budget.
  const answered = async (n: number, ip = '198.51.100.7') => {
    let count = 0;
    for (let i = 0; i < n; i++) count += (await core.client(ALICE.username, ALICE.password, ip).send(unauthenticated())).length;
    return count;
  };
  assert.equal(await answered(BURST + 3), BURST);
  assert.equal(core.stats.drops[DROP.rate_limited], 3);
  assert.equal(await answered(1, '203.0.113.1'), 1, 'another source IP has its own budget');
  core.now += 1000;
  assert.equal(await answered(RATE + 2), RATE, 'one second refills RATE answers');
  assert.equal(core.stats.drops[DROP.rate_limited], 5);
  core.now += 60_000;
  core.server.sweep();
  assert.equal(await answered(BURST + 1), BURST, 'an idle source gets its full burst back');
  assert.deepEqual(core.requests(), { 'allocate 401': BURST + 1 + RATE + BURST });
});

test('wrong-password 401s and 438s count against the same budget; authenticated requests do not', async () => {
  const core = new Core({ limits: { unauthenticatedRate: RATE } });
  const client = core.client();
  await client.challenge();
  for (let i = 0; i < 4; i++) {
    assert.equal(codeOf(await client.allocateRequest(() => {}, { password: 'wrong' })), 401);
  }
  for (let i = 0; i < BURST - 5; i++) {
    assert.equal(codeOf(await client.allocateRequest(() => {}, { nonce: 'forged' })), 438);
  }
  assert.deepEqual(await client.send(client.signed(Method.allocate, () => {}, { nonce: 'forged' })), []);
  assert.equal(core.stats.drops[DROP.rate_limited], 1);
  // The budget limits challenges only: a correctly signed request is still answered.
  assert.equal(codeOf(await client.allocateRequest()), 200);
  assert.equal(codeOf(await client.request(Method.refresh)), 200);
  // So is Binding, which needs no credentials.
  assert.equal((await client.send(plainRequest(Method.binding))).length, 1);
});

test('unauthenticated_rate 0 is unlimited, and update() applies a new rate live', async () => {
  const core = new Core();
  const c = core.client();
  for (let i = 0; i < 100; i++) assert.equal((await c.send(unauthenticated())).length, 1);
  const { authenticator, realm, limits } = core.server;
  core.server.update({ authenticator, realm, limits: { ...limits, unauthenticatedRate: 1 } });
  let answered = 0;
  for (let i = 0; i < 5; i++) answered += (await c.send(unauthenticated())).length;
  assert.equal(answered, 2);
});
