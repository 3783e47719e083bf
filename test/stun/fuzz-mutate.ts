// Mutations of STUN messages for the fuzzer: bit flips, truncations, edits of the header and attribute length
// fields and attribute types, duplicated, dropped, reordered and inserted attributes; then, sometimes, the
// header length and FINGERPRINT / MESSAGE-INTEGRITY repaired so the decoder gets past those checks.
import { ATTRIBUTES } from '../../src/stun/index.ts';
import type { Prng } from './prng.ts';
import { referenceFingerprint, referenceHmac } from './reference.ts';

const KNOWN_TYPES = [...ATTRIBUTES.keys()];
const INTERESTING_LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 12, 16, 19, 20, 21, 24, 31, 32, 33, 36, 0x7fff, 0xfffc, 0xffff];

interface Span {
  readonly start: number;
  readonly end: number;
}

/** Attribute spans (header + value + padding) as far as they can be followed, clamped to the buffer. */
function spans(b: Uint8Array): Span[] {
  const out: Span[] = [];
  for (let off = 20; off + 4 <= b.length && out.length < 200;) {
    const len = (b[off + 2] << 8) | b[off + 3];
    const end = Math.min(b.length, off + 4 + len + ((4 - (len % 4)) % 4));
    out.push({ start: off, end });
    off = end;
  }
  return out;
}

function setU16(b: Buffer, off: number, v: number): void {
  if (off + 2 <= b.length) b.writeUInt16BE(v & 0xffff, off);
}

type Mutation = (b: Buffer, rng: Prng) => Buffer;

const MUTATIONS: readonly Mutation[] = [
  // Flip one to eight bits.
  (b, rng) => {
    if (b.length === 0) return b;
    for (let n = rng.int(8) + 1; n > 0; n--) b[rng.int(b.length)] ^= 1 << rng.int(8);
    return b;
  },
  // Overwrite a byte.
  (b, rng) => {
    if (b.length > 0) b[rng.int(b.length)] = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256)]);
    return b;
  },
  // Truncate.
  (b, rng) => b.subarray(0, rng.int(b.length + 1)),
  // Append bytes.
  (b, rng) => Buffer.concat([b, rng.bytes(rng.int(12) + 1)]),
  // Edit the header length field.
  (b, rng) => {
    setU16(b, 2, rng.pick([rng.int(0x10000), b.length - 20, b.length - 16, b.length - 24, ((b[2] << 8) | b[3]) ^ 1]));
    return b;
  },
  // Edit an attribute's length field.
  (b, rng) => {
    const s = spans(b);
    if (s.length > 0) {
      const a = rng.pick(s);
      const len = (b[a.start + 2] << 8) | b[a.start + 3];
      setU16(b, a.start + 2, rng.pick([...INTERESTING_LENGTHS, len + 1, len - 1, len + 4, len - 4, rng.int(0x10000)]));
    }
    return b;
  },
  // Change an attribute's type: to another known one (same value, wrong shape), or an unknown one.
  (b, rng) => {
    const s = spans(b);
    if (s.length > 0) setU16(b, rng.pick(s).start, rng.chance(0.7) ? rng.pick(KNOWN_TYPES) : rng.int(0x10000));
    return b;
  },
  // Duplicate an attribute at another attribute boundary.
  (b, rng) => {
    const s = spans(b);
    if (s.length === 0) return b;
    const a = rng.pick(s);
    const at = rng.pick([...s.map((x) => x.start), b.length]);
    return Buffer.concat([b.subarray(0, at), b.subarray(a.start, a.end), b.subarray(at)]);
  },
  // Drop an attribute.
  (b, rng) => {
    const s = spans(b);
    if (s.length === 0) return b;
    const a = rng.pick(s);
    return Buffer.concat([b.subarray(0, a.start), b.subarray(a.end)]);
  },
  // Swap two attributes (moves MESSAGE-INTEGRITY / FINGERPRINT out of last place, too).
  (b, rng) => {
    const s = spans(b);
    if (s.length < 2) return b;
    const i = rng.int(s.length);
    let j = rng.int(s.length - 1);
    if (j >= i) j++;
    const [x, y] = i < j ? [s[i], s[j]] : [s[j], s[i]];
    return Buffer.concat([b.subarray(0, x.start), b.subarray(y.start, y.end), b.subarray(x.end, y.start),
      b.subarray(x.start, x.end), b.subarray(y.end)]);
  },
  // Insert an attribute of a known type with a value of an interesting length.
  (b, rng) => {
    const s = spans(b);
    const at = rng.pick([...s.map((x) => x.start), Math.min(b.length, 20)]);
    const len = rng.chance(0.8) ? rng.pick(INTERESTING_LENGTHS.filter((n) => n < 64)) : rng.int(300);
    const attr = Buffer.concat([Buffer.from([0, 0, len >> 8, len & 0xff]), rng.bytes(len), Buffer.alloc((4 - (len % 4)) % 4)]);
    attr.writeUInt16BE(rng.pick(KNOWN_TYPES), 0);
    return Buffer.concat([b.subarray(0, at), attr, b.subarray(at)]);
  },
];

/** Applies one to four mutations to a copy of `seed`, then maybe repairs what the decoder checks first. */
export function mutate(seed: Uint8Array, key: Uint8Array, rng: Prng): Buffer {
  let b = Buffer.from(seed);
  for (let n = rng.int(4) + 1; n > 0; n--) b = Buffer.from(rng.pick(MUTATIONS)(b, rng));
  if (b.length >= 20 && rng.chance(0.5)) setU16(b, 2, b.length - 20);
  if (rng.chance(0.3)) repairChecksums(b, key);
  return b;
}

/** Recomputes the last MESSAGE-INTEGRITY(-SHA256) and a trailing FINGERPRINT over the mutated bytes. */
function repairChecksums(b: Buffer, key: Uint8Array): void {
  for (const a of spans(b)) {
    const type = (b[a.start] << 8) | b[a.start + 1];
    const len = (b[a.start + 2] << 8) | b[a.start + 3];
    if (a.start + 4 + len > b.length) return;
    if (type === 0x0008 && len === 20) referenceHmac(b, a.start, 20, 'sha1', key).copy(b, a.start + 4);
    if (type === 0x001c && len >= 16 && len <= 32) referenceHmac(b, a.start, len, 'sha256', key).copy(b, a.start + 4);
    if (type === 0x8028 && len === 4 && a.end === b.length) b.writeUInt32BE(referenceFingerprint(b, a.start), a.start + 4);
  }
}

/** Random bytes, often shaped like a STUN header (0b00, the cookie, a matching length) or a ChannelData one. */
export function randomInput(rng: Prng): Buffer {
  const n = rng.chance(0.8) ? rng.int(64) : rng.int(700);
  const b = rng.bytes(n);
  const shape = rng.int(4);
  if (shape === 0 && n >= 20) {
    b[0] &= 0x3f;
    b.writeUInt32BE(0x2112a442, 4);
    if (rng.chance(0.7)) b.writeUInt16BE((n - 20) & ~3, 2);
  } else if (shape === 1 && n >= 4) {
    b[0] = 0x40 | (b[0] & 0x3f);
    if (rng.chance(0.7)) b.writeUInt16BE(n - 4 - rng.int(Math.min(4, n - 3)), 2);
  }
  return b;
}
