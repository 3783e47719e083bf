// Regression: a reload that renames a listener but keeps its port (e.g. a renamed Gateway listener) failed with
// EADDRINUSE, because the renamed listener was started before the old one's socket was closed; the reload was
// rolled back and counted as a failure, so the old series never went away. Removed listeners now stop first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnClient } from '../../src/client/turn-client.ts';
import { PASS, USER, startGateway, testConfig } from '../helpers/gateway.ts';
import { freeUdpPort } from '../helpers/process.ts';

const udp = (name: string, port: number) => ({ name, protocol: 'TURN-UDP', address: '127.0.0.1', port, routes: ['loopback'] });

test('a listener renamed on the same port is applied: new name bound, old stats gone', async () => {
  const port = await freeUdpPort();
  const gw = await startGateway({ listeners: [udp('old-name', port)] });
  try {
    await gw.reconfigure(testConfig({ listeners: [udp('new-name', port)] }));
    assert.deepEqual([...gw.listeners.keys()], ['new-name']);
    assert.equal(gw.listeners.get('new-name')!.address.port, port);
    assert.deepEqual([...gw.registry.listeners.keys()], ['new-name']);
    // It serves: an allocation on the same port works under the new name.
    const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: USER, password: PASS });
    try {
      await client.allocate();
      assert.equal(gw.registry.listener('new-name').allocationsActive, 1);
    } finally {
      client.close();
    }
  } finally {
    await gw.stop();
  }
});
