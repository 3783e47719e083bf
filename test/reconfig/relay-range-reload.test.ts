// A reload that moves a listener's relay port range reaches both of its relay kinds: new UDP relays and new
// RFC 6062 TCP relays of a TURN-TCP listener get ports of the new range, and the relays made before keep theirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { TurnClient } from '../../src/client/turn-client.ts';
import { PASS, USER, portOf, startGateway, testConfig } from '../helpers/gateway.ts';
import { freeTcpPort } from '../helpers/process.ts';

const CLUSTERS = [
  { name: 'tcp-plane', type: 'STATIC', protocol: 'TCP', endpoints: ['127.0.0.1/32'] },
  { name: 'udp-plane', type: 'STATIC', endpoints: ['127.0.0.0/8'] },
];

/** Ten ports below the kernel's ephemeral range, so that nothing else is likely to hold them. */
function range(): [number, number] {
  const min = 20_000 + randomInt(1000) * 10;
  return [min, min + 9];
}

/** The error code of binding 127.0.0.1:port, or undefined when the port was free (it is released again). */
function bindError(kind: 'udp' | 'tcp', port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      s.once('error', (err: NodeJS.ErrnoException) => { s.close(); resolve(err.code); });
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(undefined)));
    } else {
      const s = createServer();
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
      s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(undefined)));
    }
  });
}

test('a relay port range changed by reload: new UDP and TCP relays inside it, old ones keep their ports', async () => {
  const port = await freeTcpPort();
  const [oldMin, oldMax] = range();
  let [newMin, newMax] = range();
  while (newMin === oldMin) [newMin, newMax] = range();
  const listener = (min: number, max: number) => ({
    name: 'tcp', protocol: 'TURN-TCP', address: '127.0.0.1', port, routes: ['tcp-plane', 'udp-plane'],
    min_relay_port: min, max_relay_port: max,
  });
  const gw = await startGateway({ listeners: [listener(oldMin, oldMax)], clusters: CLUSTERS });
  const clients: TurnClient[] = [];
  const allocate = async (transport: 'udp' | 'tcp') => {
    const c = await TurnClient.connect({
      kind: 'tcp', host: '127.0.0.1', port: portOf(gw, 'tcp'), username: USER, password: PASS, timeoutMs: 5000,
    });
    clients.push(c);
    const r = await c.allocate({ transport });
    return { client: c, port: r.relayed[0].port };
  };
  const inside = (p: number, min: number, max: number) => p >= min && p <= max;
  try {
    const udpBefore = await allocate('udp');
    const tcpBefore = await allocate('tcp');
    assert.ok(inside(udpBefore.port, oldMin, oldMax), `UDP relay ${udpBefore.port} in ${oldMin}-${oldMax}`);
    assert.ok(inside(tcpBefore.port, oldMin, oldMax), `TCP relay ${tcpBefore.port} in ${oldMin}-${oldMax}`);

    const plan = await gw.reconfigure(testConfig({ listeners: [listener(newMin, newMax)], clusters: CLUSTERS }));
    assert.deepEqual(plan.listeners, [{ name: 'tcp', action: 'reconcile', fields: ['min_relay_port', 'max_relay_port'] }]);

    const udpAfter = await allocate('udp');
    const tcpAfter = await allocate('tcp');
    assert.ok(inside(udpAfter.port, newMin, newMax), `UDP relay ${udpAfter.port} in ${newMin}-${newMax}`);
    assert.ok(inside(tcpAfter.port, newMin, newMax), `TCP relay ${tcpAfter.port} in ${newMin}-${newMax}`);

    // The relays made before the reload are alive and still hold their old ports.
    assert.equal(gw.server.allocations.size, 4);
    assert.equal(await bindError('udp', udpBefore.port), 'EADDRINUSE');
    assert.equal(await bindError('tcp', tcpBefore.port), 'EADDRINUSE');
    assert.equal(await udpBefore.client.refresh(600), 600);
    assert.equal(await tcpBefore.client.refresh(600), 600);
  } finally {
    for (const c of clients) c.close();
    await gw.stop();
  }
});
