// The gateway's injected clock decides ephemeral expiry, before and after a live reconfiguration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ephemeralPassword } from '../../src/auth/ephemeral-auth.ts';
import { TurnClient, type TurnClientError } from '../../src/client/turn-client.ts';
import { portOf, startGateway, testConfig } from '../helpers/gateway.ts';
import { freeUdpPort } from '../helpers/process.ts';

const SECRET = 'clock-secret';
const auth = { type: 'ephemeral', realm: 'stunner.l7mp.io', credentials: { secret: SECRET } };

test('ephemeral expiry follows the gateway clock, also after reconfigure()', async () => {
  // A clock far in the past: usernames valid for it have long expired in real time, and vice versa.
  let now = Date.UTC(2001, 0, 1);
  const listeners = [{ name: 'udp', protocol: 'TURN-UDP', address: '127.0.0.1', port: await freeUdpPort(), routes: ['loopback'] }];
  const gw = await startGateway({ auth, listeners, clock: () => now });
  const clients: TurnClient[] = [];
  const allocateAs = async (username: string) => {
    const c = await TurnClient.connect({
      kind: 'udp', host: '127.0.0.1', port: portOf(gw), username, password: ephemeralPassword(SECRET, username),
      rtoMs: 100,
    });
    clients.push(c);
    return c.allocate();
  };
  try {
    const soon = `${Math.floor(now / 1000) + 3600}:alice`;
    await allocateAs(soon);
    await gw.reconfigure(testConfig({ auth, listeners, admin: { user_quota: 10 } }));
    await allocateAs(soon);
    now += 3601_000;
    await assert.rejects(allocateAs(soon), (e: TurnClientError) => e.code === 401);
  } finally {
    for (const c of clients) c.close();
    await gw.stop();
  }
});
