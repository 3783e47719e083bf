// Micro-benchmarks of the codec's per-packet paths, against a baseline measured in the same run (taking a
// subarray view of a datagram, the least a relay must do per packet). Prints ns/op, ops/s, bytes allocated
// per op and the ratio to the baseline.
// Usage: sh bin/node.sh bench/codec/codec.bench.ts [--seconds N] (default 1 s per case; about 1.5 N s per case in all).
import { createSecretKey } from 'node:crypto';
import {
  Data, MessageClass, Method, Nonce, Realm, RequestedTransport, StunWriter, Username, XorPeerAddress,
  decodeChannelData, decodeStun, encodeChannelData, longTermKey, verifyMessageIntegrity, type IntegrityKey,
  type TransportAddress,
} from '../../src/stun/index.ts';
import { measure, sinkValue, type Measurement, type Op } from './measure.ts';

const secondsFlag = process.argv.indexOf('--seconds');
const SECONDS = secondsFlag > 0 ? Number(process.argv[secondsFlag + 1]) : 1;
if (!(SECONDS > 0)) throw new Error('--seconds must be a positive number');

const PAYLOAD = Buffer.alloc(1200, 0x5a); // a typical WebRTC media datagram
const PEER: TransportAddress = { family: 4, address: '198.51.100.7', port: 40000 };
const TID = Buffer.from('0102030405060708090a0b0c', 'hex');

const channelFrame = encodeChannelData(0x4001, PAYLOAD);
const sendIndication = new StunWriter(Method.send, MessageClass.indication, TID)
  .add(XorPeerAddress, PEER).add(Data, PAYLOAD).finish();
// What a client sends on its second Allocate: credentials, nonce, MESSAGE-INTEGRITY, FINGERPRINT.
const cachedKey = longTermKey('user1', 'stunner.l7mp.io', 'pass1');
const cachedKeyObject = createSecretKey(cachedKey);
const allocateRequest = new StunWriter(Method.allocate, MessageClass.request, TID)
  .add(RequestedTransport, 17).add(Username, 'user1').add(Realm, 'stunner.l7mp.io')
  .add(Nonce, 'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA').addMessageIntegrity(cachedKey).addFingerprint().finish();

const cases: [string, Op][] = [
  ['baseline: subarray of a 1200-byte datagram', () => channelFrame.subarray(4, 1204).length],
  ['ChannelData inline read (first bits, channel, length, subarray)', () => {
    const b = channelFrame;
    if ((b[0] & 0xc0) !== 0x40 || b.length < 4) return 0;
    const channel = (b[0] << 8) | b[1];
    const length = (b[2] << 8) | b[3];
    if (4 + length > b.length) return 0;
    return channel + b.subarray(4, 4 + length).length;
  }],
  ['decodeChannelData (1200 B)', () => decodeChannelData(channelFrame)?.payload.length ?? 0],
  ['encodeChannelData (1200 B)', () => encodeChannelData(0x4001, PAYLOAD).length],
  ['Send indication decode (XOR-PEER-ADDRESS + DATA, 1200 B)', () => {
    const r = decodeStun(sendIndication);
    if (!r.ok) return 0;
    const peer = r.message.get(XorPeerAddress);
    const data = r.message.get(Data);
    return (peer?.port ?? 0) + (data?.length ?? 0);
  }],
  ['Data indication build (XOR-PEER-ADDRESS + DATA, 1200 B)', () =>
    new StunWriter(Method.data, MessageClass.indication, TID, PAYLOAD.length + 64)
      .add(XorPeerAddress, PEER).add(Data, PAYLOAD).finish().length],
  ['Allocate decode + USERNAME/REALM/NONCE + MESSAGE-INTEGRITY (key cached as bytes)',
    () => authenticate(cachedKey)],
  ['Allocate decode + USERNAME/REALM/NONCE + MESSAGE-INTEGRITY (key cached as KeyObject)',
    () => authenticate(cachedKeyObject)],
];

function authenticate(key: IntegrityKey): number {
  const r = decodeStun(allocateRequest);
  if (!r.ok) return 0;
  const m = r.message;
  const n = (m.get(Username)?.length ?? 0) + (m.get(Realm)?.length ?? 0) + (m.get(Nonce)?.length ?? 0);
  return verifyMessageIntegrity(m, key) ? n : -n;
}

// Each case must do its work: a case returning 0 has hit a failure path.
for (const [name, op] of cases) if (op() <= 0) throw new Error(`bench case failed: ${name}`);

const results: Measurement[] = cases.map(([name, op]) => measure(name, op, SECONDS));
const base = results[0].nsPerOp;
const rows = results.map((r) => [
  r.name,
  r.nsPerOp.toFixed(1),
  Math.round(1e9 / r.nsPerOp).toLocaleString('en-US'),
  Number.isNaN(r.heapBytesPerOp) ? '?' : r.heapBytesPerOp.toFixed(0),
  Number.isNaN(r.bufferBytesPerOp) ? '?' : r.bufferBytesPerOp.toFixed(0),
  `${(r.nsPerOp / base).toFixed(1)}×`,
]);
const header = ['case', 'ns/op', 'ops/s', 'heap B/op', 'buffer B/op', 'vs baseline'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`node ${process.version}, ${SECONDS} s per case (sink ${sinkValue() & 1})`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
