// Closing a listener of any kind leaves no socket bound: its relays, the port an EVEN-PORT R reservation holds
// (which used to stay bound for 30 s after a TURN-UDP listener closed) and RFC 6062 TCP relays. Checked by
// binding the exact ports again and by `ss` on this process, both when the listener closes under live
// allocations and when a reload removes it (the gateway ends its allocations first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { TurnClient } from '../../src/client/turn-client.ts';
import type { ListenerProtocol } from '../../src/config/types.ts';
import { EvenPort, RequestedTransport } from '../../src/stun/attributes/numeric.ts';
import { ReservationToken } from '../../src/stun/attributes/opaque.ts';
import { XorRelayedAddress } from '../../src/stun/attributes/address.ts';
import { Nonce, Realm, Username } from '../../src/stun/attributes/text.ts';
import { MessageClass, Method, TRANSPORT_UDP } from '../../src/stun/constants.ts';
import { longTermKey } from '../../src/stun/integrity.ts';
import { decodeStun, type StunMessage } from '../../src/stun/message.ts';
import { StunWriter } from '../../src/stun/writer.ts';
import { PASS, USER, startGateway, testConfig } from '../helpers/gateway.ts';
import { freeTcpPort, freeUdpPort } from '../helpers/process.ts';
import { makeTestCert } from '../helpers/tls-cert.ts';
import { startTransportListener } from '../helpers/transport-listener.ts';
import { connectWeriftClient } from '../dtls/helpers.ts';

const CLUSTERS = [
  { name: 'tcp-plane', type: 'STATIC', protocol: 'TCP', endpoints: ['127.0.0.1/32'] },
  { name: 'udp-plane', type: 'STATIC', endpoints: ['127.0.0.0/8'] },
];
const KINDS: ListenerProtocol[] = ['TURN-UDP', 'TURN-TCP', 'TURN-TLS', 'TURN-DTLS'];
const cert = makeTestCert();

/** Listener fields: ten relay ports below the kernel's ephemeral range, both clusters routed. */
function listenerFields(protocol: ListenerProtocol): Record<string, unknown> {
  const min = 20_000 + randomInt(1000) * 10;
  const tls = protocol === 'TURN-TLS' || protocol === 'TURN-DTLS' ? { cert: cert.cert, key: cert.key } : {};
  return { routes: ['tcp-plane', 'udp-plane'], min_relay_port: min, max_relay_port: min + 9, ...tls };
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

/** Local ports of this process's sockets of one kind, as `ss` lists them (TCP in any state, UDP bound). */
function ownPorts(kind: 'udp' | 'tcp'): Set<number> {
  const out = execFileSync('ss', ['-H', kind === 'udp' ? '-uanp' : '-tanp'], { encoding: 'utf8' });
  const ports = new Set<number>();
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${process.pid},`)) continue;
    const local = line.trim().split(/\s+/)[3];
    ports.add(Number(local.slice(local.lastIndexOf(':') + 1)));
  }
  return ports;
}

interface Held {
  /** UDP relay ports: the relay of an EVEN-PORT R allocation, and the port its token reserves. */
  readonly udp: number[];
  /** The port of an RFC 6062 TCP relay (stream listeners). */
  readonly tcp: number[];
  close(): void;
}

/** An Allocate with EVEN-PORT R over a werift DTLS association (TurnClient has no DTLS transport). */
async function dtlsAllocation(port: number): Promise<{ response: StunMessage; close(): void }> {
  const peer = await connectWeriftClient(port);
  const exchange = async (request: Buffer): Promise<StunMessage> => {
    peer.client.send(request);
    const r = decodeStun(await peer.nextData());
    assert.ok(r.ok);
    return r.message;
  };
  const challenge = await exchange(new StunWriter(Method.allocate, MessageClass.request)
    .add(RequestedTransport, TRANSPORT_UDP).finish());
  const realm = challenge.get(Realm)!;
  const w = new StunWriter(Method.allocate, MessageClass.request).add(RequestedTransport, TRANSPORT_UDP)
    .add(EvenPort, { reserve: true }).add(Username, USER).add(Realm, realm).add(Nonce, challenge.get(Nonce)!);
  w.addMessageIntegrity(longTermKey(USER, realm, PASS));
  return { response: await exchange(w.finish()), close: () => peer.close() };
}

/** Makes an EVEN-PORT R allocation, and on stream listeners a TCP allocation too; returns the ports they hold. */
async function allocate(protocol: ListenerProtocol, port: number): Promise<Held> {
  const closers: (() => void)[] = [];
  let response: StunMessage;
  const tcp: number[] = [];
  if (protocol === 'TURN-DTLS') {
    const a = await dtlsAllocation(port);
    closers.push(a.close);
    response = a.response;
  } else {
    const kind = protocol === 'TURN-UDP' ? 'udp' : protocol === 'TURN-TCP' ? 'tcp' : 'tls';
    const connect = async () => {
      const c = await TurnClient.connect({
        kind, host: '127.0.0.1', port, username: USER, password: PASS, tls: { rejectUnauthorized: false }, timeoutMs: 5000,
      });
      closers.push(() => c.close());
      return c;
    };
    response = (await (await connect()).allocate({ extra: (w) => w.add(EvenPort, { reserve: true }) })).response;
    if (kind !== 'udp') tcp.push((await (await connect()).allocate({ transport: 'tcp' })).relayed[0].port);
  }
  assert.equal(response.cls, MessageClass.successResponse);
  assert.ok(response.get(ReservationToken) !== undefined, 'EVEN-PORT R returned a token');
  const relay = response.get(XorRelayedAddress)!.port;
  assert.equal(relay % 2, 0);
  return { udp: [relay, relay + 1], tcp, close: () => { for (const c of closers) c(); } };
}

async function assertHeld(held: Held): Promise<void> {
  for (const p of held.udp) assert.equal(await bindError('udp', p), 'EADDRINUSE', `UDP ${p} is held`);
  for (const p of held.tcp) assert.equal(await bindError('tcp', p), 'EADDRINUSE', `TCP ${p} is held`);
}

async function assertReleased(held: Held, listenerPort: number): Promise<void> {
  const udp = ownPorts('udp');
  const tcp = ownPorts('tcp');
  for (const p of [...held.udp, listenerPort]) assert.ok(!udp.has(p), `no UDP socket of ours on ${p}`);
  for (const p of [...held.tcp, listenerPort]) assert.ok(!tcp.has(p), `no TCP socket of ours on ${p}`);
  for (const p of held.udp) assert.equal(await bindError('udp', p), undefined, `UDP ${p} binds again`);
  for (const p of held.tcp) assert.equal(await bindError('tcp', p), undefined, `TCP ${p} binds again`);
}

for (const protocol of KINDS) {
  test(`${protocol}: closing the listener under live allocations closes its relays and reservations`, async () => {
    const t = await startTransportListener(protocol, {}, undefined,
      { listener: listenerFields(protocol), clusters: CLUSTERS });
    let held: Held | undefined;
    try {
      held = await allocate(protocol, t.port);
      await assertHeld(held);
      await t.listener.close();
      await assertReleased(held, t.port);
    } finally {
      held?.close();
      t.server.close();
    }
  });

  test(`${protocol}: a listener removed by reload leaves no socket bound`, async () => {
    const port = protocol === 'TURN-UDP' || protocol === 'TURN-DTLS' ? await freeUdpPort() : await freeTcpPort();
    const listeners = [{ name: 'l', protocol, address: '127.0.0.1', port, ...listenerFields(protocol) }];
    const gw = await startGateway({ listeners, clusters: CLUSTERS });
    let held: Held | undefined;
    try {
      held = await allocate(protocol, port);
      await assertHeld(held);
      await gw.reconfigure(testConfig({ listeners: [], clusters: CLUSTERS }));
      assert.equal(gw.listeners.size, 0);
      await assertReleased(held, port);
    } finally {
      held?.close();
      await gw.stop();
    }
  });
}
