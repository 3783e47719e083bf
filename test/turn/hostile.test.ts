// Hostile datagrams against a real TURN-UDP listener on loopback while a legitimate client relays through a
// channel: random bytes, mutated and truncated STUN, bogus ChannelData, Send indications without permission,
// strangers writing to the relayed addresses, from many source ports; and, from a few other ports, mutations
// of the client's requests re-signed with its real key (replays that may well allocate).
// The process must never throw, the legitimate relay must lose nothing, and every drop must be counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { setImmediate as yieldLoop, setTimeout as sleep } from 'node:timers/promises';
import { TurnClient } from '../../src/client/turn-client.ts';
import type { TransportAddress } from '../../src/stun/address.ts';
import { encodeChannelData } from '../../src/stun/channel-data.ts';
import { Attr, MessageClass, Method, TRANSPORT_UDP } from '../../src/stun/constants.ts';
import { XorPeerAddress } from '../../src/stun/attributes/address.ts';
import { ChannelNumber, Lifetime, RequestedTransport } from '../../src/stun/attributes/numeric.ts';
import { Nonce, Realm, Username } from '../../src/stun/attributes/text.ts';
import { longTermKey } from '../../src/stun/integrity.ts';
import { StunWriter } from '../../src/stun/writer.ts';
import { DROP } from '../../src/stats/listener-stats.ts';
import { PASS, USER, portOf, startGateway } from '../helpers/gateway.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { Prng, seedFrom } from '../stun/prng.ts';
import { mutate, randomInput } from '../stun/fuzz-mutate.ts';

const SOURCES = 24;
const REPLAYERS = 4;
const ROUNDS = 400;
/** At least this many legitimate ChannelData round trips, and more for as long as the flood lasts. */
const RELAYED = 300;
/** Datagrams the flood may have in flight: sender and gateway share one event loop, and a flood that outruns
 *  the reads would overflow the listener's socket buffer, where the kernel drops what nobody can count. */
const IN_FLIGHT = 400;

function bindSocket(address = '127.0.0.1'): Promise<Socket> {
  const s = createSocket('udp4');
  s.on('message', () => {});
  return new Promise((resolve) => s.bind(0, address, () => resolve(s)));
}

function closeSocket(s: Socket): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

/** Records every datagram a client sends, as seeds for mutation and to count what the listener received. */
function recordSent(client: TurnClient): Buffer[] {
  const out: Buffer[] = [];
  const t = client.transport;
  const send = t.send.bind(t);
  t.send = (frame) => {
    out.push(Buffer.from(frame));
    send(frame);
  };
  return out;
}

/** Requests as a client would sign them, but with a key the gateway does not accept. */
function wronglySigned(nonce: string, realm: string, to: TransportAddress): Buffer[] {
  const key = longTermKey(USER, realm, 'not-the-password');
  const sign = (method: number, build: (w: StunWriter) => void) => {
    const w = new StunWriter(method, MessageClass.request);
    build(w);
    w.add(Username, USER).add(Realm, realm).add(Nonce, nonce).addMessageIntegrity(key).addFingerprint();
    return Buffer.from(w.finish());
  };
  return [
    sign(Method.allocate, (w) => w.add(RequestedTransport, TRANSPORT_UDP).add(Lifetime, 3600)),
    sign(Method.refresh, (w) => w.add(Lifetime, 0)),
    sign(Method.createPermission, (w) => w.add(XorPeerAddress, to)),
    sign(Method.channelBind, (w) => w.add(ChannelNumber, 0x4000).add(XorPeerAddress, to)),
    Buffer.from(new StunWriter(Method.binding, MessageClass.request).addFingerprint().finish()),
    sendIndication(to, Buffer.from('data')),
  ];
}

function sendIndication(peer: TransportAddress, data: Buffer): Buffer {
  return Buffer.from(new StunWriter(Method.send, MessageClass.indication)
    .add(XorPeerAddress, peer).addRaw(Attr.DATA, data).finish());
}

test('hostile datagrams: no throw, no loss on a concurrent legitimate relay, drops counted', async (t) => {
  const seed = seedFrom('HOSTILE_SEED');
  const rng = new Prng(seed);
  const thrown: unknown[] = [];
  const onThrow = (err: unknown) => thrown.push(err);
  process.on('uncaughtException', onThrow);
  process.on('unhandledRejection', onThrow);

  const gw = await startGateway();
  const peer = await startEchoPeer();
  const port = portOf(gw);
  const connect = () => TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: USER, password: PASS });
  const legit = await connect();
  const attacker = await connect();
  const legitSent = recordSent(legit);
  const attackerSent = recordSent(attacker);
  const sources = await Promise.all(Array.from({ length: SOURCES }, () => bindSocket()));
  const replayers = await Promise.all(Array.from({ length: REPLAYERS }, () => bindSocket()));
  const stranger = await bindSocket('127.0.0.2');
  const ls = gw.registry.listener('udp');
  const cs = gw.registry.cluster('udp', 'loopback');
  try {
    const to: TransportAddress = { family: 4, address: '127.0.0.1', port: peer.port };
    const legitRelay = (await legit.allocate()).relayed[0];
    await legit.channelBind(0x4000, to);
    const relayed = (await attacker.allocate()).relayed[0];
    const realm = gw.config.auth.realm;
    const key = longTermKey(USER, realm, PASS);
    // The flood never authenticates (its messages and their repaired mutations carry a wrong key), so its
    // sources never hold an allocation and their drops can be predicted. The replayers mutate what the real
    // clients sent, re-signed with the real key.
    const wrongKey = longTermKey(USER, realm, 'not-the-password');
    const seeds = wronglySigned(gw.server.nonces.issue('127.0.0.1', Date.now()), realm, to);
    const replaySeeds = [...legitSent, ...attackerSent];
    const expected = { malformed: 0, noAllocation: 0, noPermission: 0, challenges: 0 };
    const started = Date.now();
    let garbage = 0;
    const total = () => legitSent.length + attackerSent.length + garbage;

    const flood = async () => {
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of sources) {
          const shots: Buffer[] = [randomInput(rng), mutate(rng.pick(seeds), wrongKey, rng), rng.bytes(rng.int(1500))];
          const cut = rng.pick(replaySeeds);
          shots.push(cut.subarray(0, rng.int(cut.length)));
          for (const b of shots) {
            s.send(b, port, '127.0.0.1');
            garbage++;
            // Unallocated source: ChannelData-shaped bytes are no_allocation, bytes that are neither STUN nor
            // ChannelData are malformed; the STUN-shaped rest is judged by the decoder (not predicted here).
            const kind = b.length > 0 ? b[0] & 0xc0 : 0xc0;
            if (kind === 0x40) expected.noAllocation++;
            else if (kind !== 0) expected.malformed++;
          }
          s.send(encodeChannelData(0x4000, rng.bytes(8)), port, '127.0.0.1');
          s.send(sendIndication(to, rng.bytes(8)), port, '127.0.0.1');
          // A request with a wrong key: a 401 within the per-IP budget, dropped as rate_limited beyond it.
          s.send(seeds[round % 4], port, '127.0.0.1');
          garbage += 3;
          expected.noAllocation += 2;
          expected.challenges++;
        }
        for (const r of replayers) {
          r.send(mutate(rng.pick(replaySeeds), key, rng), port, '127.0.0.1');
          garbage++;
        }
        // From an allocated 5-tuple: an unbound channel, a length beyond the datagram, a Send indication to a
        // peer without permission; and strangers writing to both relayed addresses.
        attacker.sendChannel(0x4000 + (round % 0x3fff), rng.bytes(16));
        const overlong = encodeChannelData(0x4000, rng.bytes(8));
        overlong.writeUInt16BE(9 + rng.int(1000), 2);
        attacker.sendRaw(overlong);
        attacker.sendIndication(to, rng.bytes(16));
        stranger.send(rng.bytes(rng.int(200)), relayed.port, '127.0.0.1');
        stranger.send(rng.bytes(rng.int(200)), legitRelay.port, '127.0.0.1');
        expected.noPermission += 4;
        expected.malformed += 1;
        // The legitimate client's own 5-tuple: an unbound channel and an overlong frame, dropped around its relay.
        if (round % 10 === 0) {
          legit.sendChannel(0x7fff, Buffer.from('unbound'));
          const bad = encodeChannelData(0x4000, Buffer.from('over'));
          bad.writeUInt16BE(100, 2);
          legit.sendRaw(bad);
          expected.noPermission += 1;
          expected.malformed += 1;
        }
        for (let i = 0; i < 1000 && ls.rxPackets < total() - IN_FLIGHT; i++) await yieldLoop();
      }
    };

    let flooding = true;
    let relayedCount = 0;
    const relay = async () => {
      for (let i = 0; i < RELAYED || flooding; i++) {
        const payload = Buffer.alloc(64, i & 0xff);
        payload.writeUInt32BE(i, 0);
        const back = new Promise<Buffer>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`echo ${i} lost (seed ${seed})`)), 5000);
          legit.once('data', (data: Buffer) => {
            clearTimeout(timer);
            resolve(Buffer.from(data));
          });
        });
        legit.sendChannel(0x4000, payload);
        assert.deepEqual(await back, payload, `echo ${i} (seed ${seed})`);
        relayedCount++;
      }
    };

    await Promise.all([flood().finally(() => { flooding = false; }), relay()]);
    // Let the last datagrams land, then every one of them must have been counted.
    for (let i = 0; i < 100 && ls.rxPackets < total(); i++) await sleep(20);
    assert.deepEqual(thrown, [], `nothing thrown (seed ${seed})`);
    assert.equal(ls.rxPackets, total(), `every datagram to the listener is counted (seed ${seed})`);
    // A replay may have bound a channel of its own to the echo peer, so these are lower bounds.
    assert.ok(peer.received >= relayedCount);
    assert.ok(cs.txPackets >= relayedCount && cs.rxPackets >= relayedCount && cs.txBytes >= relayedCount * 64);
    const drops = [...ls.drops];
    assert.ok(drops[DROP.malformed] >= expected.malformed, `malformed ${drops[DROP.malformed]} >= ${expected.malformed}`);
    assert.ok(drops[DROP.no_allocation] >= expected.noAllocation,
      `no_allocation ${drops[DROP.no_allocation]} >= ${expected.noAllocation}`);
    assert.ok(drops[DROP.no_permission] >= expected.noPermission,
      `no_permission ${drops[DROP.no_permission]} >= ${expected.noPermission}`);
    assert.equal(drops[DROP.forbidden_peer], 0);
    // The budget of 127.0.0.1 over the run: admin.limits.unauthenticated_rate per second, 2 s of burst.
    const rate = gw.config.admin.limits.unauthenticated_rate;
    const budget = 2 * rate + rate * Math.ceil((Date.now() - started) / 1000);
    assert.ok(drops[DROP.rate_limited] >= expected.challenges - budget,
      `rate_limited ${drops[DROP.rate_limited]} >= ${expected.challenges} - ${budget}`);
    t.diagnostic(`seed ${seed}: ${total()} datagrams, ${relayedCount} relayed round trips, drops ${JSON.stringify(drops)}`);
    // The legitimate allocation is intact and still answers.
    assert.equal(await legit.refresh(), 600);
  } finally {
    legit.close();
    attacker.close();
    await Promise.all([...sources, ...replayers, stranger].map(closeSocket));
    await peer.close();
    await gw.stop();
    process.off('uncaughtException', onThrow);
    process.off('unhandledRejection', onThrow);
  }
});
