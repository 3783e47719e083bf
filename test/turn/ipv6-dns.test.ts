// IPv6 relays on an IPv6 listener, and STRICT_DNS clusters re-resolved while allocations live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { TurnClient, type TurnClientError } from '../../src/client/turn-client.ts';
import { Gateway } from '../../src/server/gateway.ts';
import { LoggerFactory } from '../../src/log/logger.ts';
import { PASS, USER, testConfig } from '../helpers/gateway.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { freeUdpPort } from '../helpers/process.ts';

test('an IPv6 listener relays over IPv6; IPv4 is refused with 440', async () => {
  const port = await freeUdpPort('::1');
  const gw = new Gateway(testConfig({
    listeners: [{ name: 'v6', protocol: 'TURN-UDP', address: '::1', port, routes: ['loopback6'] }],
    clusters: [{ name: 'loopback6', type: 'STATIC', endpoints: ['::1/128'] }],
  }), { logs: new LoggerFactory({ levels: 'all:ERROR' }) });
  await gw.start();
  const peer = await startEchoPeer('::1');
  const client = await TurnClient.connect({ kind: 'udp', host: '::1', port, username: USER, password: PASS });
  try {
    await assert.rejects(client.allocate({ family: 4 }), (e: TurnClientError) => e.code === 440);
    const alloc = await client.allocate({ family: 6 });
    assert.equal(alloc.relayed[0].family, 6);
    assert.equal(alloc.relayed[0].address, '::1');
    assert.equal(alloc.mapped?.address, '::1');
    const p = { family: 6 as const, address: '::1', port: peer.port };
    await client.channelBind(0x4000, p);
    client.sendChannel(0x4000, Buffer.from('v6'));
    const [data] = await once(client, 'data');
    assert.equal(data.toString(), 'v6');
    // IPv4 peers do not fit an IPv6 allocation: 443.
    await assert.rejects(client.createPermission({ family: 4, address: '127.0.0.1', port: 9 }),
      (e: TurnClientError) => e.code === 443);
  } finally {
    client.close();
    await peer.close();
    await gw.stop();
  }
});

test('a STRICT_DNS cluster follows its name: a peer leaving the answer stops being relayed', async () => {
  const port = await freeUdpPort();
  let answer = ['127.0.0.1'];
  const gw = new Gateway(testConfig({
    listeners: [{ name: 'udp', protocol: 'TURN-UDP', address: '127.0.0.1', port, routes: ['media'] }],
    clusters: [{ name: 'media', type: 'STRICT_DNS', endpoints: ['media.example.test'] }],
  }), { logs: new LoggerFactory({ levels: 'all:ERROR' }), resolver: async () => answer, dnsRefreshMs: 50 });
  await gw.start();
  const peer = await startEchoPeer();
  const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: USER, password: PASS });
  try {
    await client.allocate();
    const p = { family: 4 as const, address: '127.0.0.1', port: peer.port };
    await client.channelBind(0x4000, p);
    client.sendChannel(0x4000, Buffer.from('before'));
    assert.equal((await once(client, 'data'))[0].toString(), 'before');
    await assert.rejects(client.createPermission({ family: 4, address: '127.0.0.2', port: 9 }),
      (e: TurnClientError) => e.code === 403);
    answer = ['127.0.0.2'];
    await new Promise((r) => setTimeout(r, 300));
    const received = peer.received;
    client.sendChannel(0x4000, Buffer.from('after'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(peer.received, received, 'the old address is no longer relayed to');
    assert.ok(gw.registry.listener('udp').drops[3] >= 1, 'counted as forbidden_peer');
    await client.createPermission({ family: 4, address: '127.0.0.2', port: 9 });
  } finally {
    client.close();
    await peer.close();
    await gw.stop();
  }
});
