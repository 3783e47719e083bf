// Nonces across worker threads: TurnServers given the same SharedDataplaneState accept each other's nonces; a
// TurnServer with its own key does not.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSharedDataplaneState } from '../../src/shared/dataplane-state.ts';
import { StaticAuthenticator } from '../../src/auth/static-auth.ts';
import { LoggerFactory } from '../../src/log/logger.ts';
import { TurnServer, type TurnSharedState } from '../../src/turn/turn-server.ts';
import { startWorkers } from './workers.ts';

function turnServer(shared?: TurnSharedState): TurnServer {
  return new TurnServer({
    authenticator: new StaticAuthenticator('alice', 'secret', 'shared.test'), realm: 'shared.test',
    limits: { userQuota: 0, maxAllocations: 0, maxPermissionsPerAllocation: 0, maxChannelsPerAllocation: 0, unauthenticatedRate: 0 },
    logger: new LoggerFactory({ levels: 'all:DISABLE' }).get('turn'), shared,
  });
}

describe('nonces across worker threads', () => {
  const state = createSharedDataplaneState();
  let w: Awaited<ReturnType<typeof startWorkers>>;
  before(async () => {
    w = await startWorkers(state, 1);
  });
  after(() => w.stop());

  it('a nonce a worker\'s TurnServer issued verifies in another TurnServer on the same state, for that client only', async () => {
    const now = Date.now();
    const nonce = await w.workers[0].call<string>({ op: 'nonce', client: '198.51.100.7', now });
    const here = turnServer(state);
    assert.equal(here.nonces.check(nonce, '198.51.100.7', now + 1000), 'valid');
    assert.equal(here.nonces.check(nonce, '198.51.100.8', now + 1000), 'invalid');
    assert.equal(here.nonces.check(nonce, '198.51.100.7', now + 601_000), 'stale');
    assert.equal(turnServer().nonces.check(nonce, '198.51.100.7', now + 1000), 'invalid', 'a key of its own');
  });
});
