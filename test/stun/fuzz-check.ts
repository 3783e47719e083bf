// What the fuzzer asserts about one input: every decoder returns (never throws), every decoded number is an
// integer in its range, every returned view lies inside the input, integrity and fingerprint results agree
// with the independent reference, and no byte outside the input is read (see `guard` and the sentinel
// comparison in fuzz.test.ts). `exercise` returns a digest of everything decoded, for that comparison.
import assert from 'node:assert/strict';
import {
  ATTRIBUTES, Attr, MessageClass, decodeChannelData, decodeStun, ipFamily, isChannelData,
  isComprehensionRequired, looksLikeStun, verifyMessageIntegrity, verifyMessageIntegritySha256,
  type AttributeCodec, type StunMessage,
} from '../../src/stun/index.ts';
import { SAMPLES, plain } from './attribute-samples.ts';
import { referenceFingerprint, referenceHmac } from './reference.ts';

export class OutOfBoundsRead extends Error {}

/**
 * A view that throws on any indexed read outside [0, length). Reading past the end of a typed array in JS
 * returns undefined, which bitwise arithmetic silently turns into 0; this makes such a read fail loudly.
 */
export function guard(b: Uint8Array): Uint8Array {
  return new Proxy(b, {
    get(target, p) {
      if (typeof p === 'string') {
        const c = p.charCodeAt(0);
        if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
          const i = Number(p);
          if (Number.isInteger(i) && (i < 0 || i >= target.length)) {
            throw new OutOfBoundsRead(`read [${p}] of a ${target.length}-byte view`);
          }
        }
      }
      const v: unknown = Reflect.get(target, p, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const CODECS = [...ATTRIBUTES.values()];
const CLASSES = new Set<number>(Object.values(MessageClass));
const FIXED_XOR_KEY = Buffer.from('2112a442fedcba9876543210aabbccdd', 'hex');

/** Codecs that index bytes themselves; the text ones hand the bytes to TextDecoder, which rejects a Proxy (the
 *  codec then reports the value malformed), so they get plain views. */
const GUARDABLE: ReadonlySet<AttributeCodec<unknown>> = new Set(CODECS.filter((c) => {
  const sample = SAMPLES.get(c.type)![0];
  return c.decode(guard(c.encode(sample, FIXED_XOR_KEY)!), guard(FIXED_XOR_KEY)) !== undefined;
}));

/** Codecs that decode UTF-8 with TextDecoder, whose rejection of invalid bytes (a throw) is slow. */
const TEXTUAL: ReadonlySet<number> = new Set([Attr.USERNAME, Attr.REALM, Attr.NONCE, Attr.SOFTWARE,
  Attr.ALTERNATE_DOMAIN, Attr.ERROR_CODE, Attr.ADDRESS_ERROR_CODE]);

function within(view: Uint8Array, outer: Uint8Array, what: string): void {
  assert.ok(view instanceof Uint8Array, `${what}: not a byte view`);
  assert.equal(view.buffer, outer.buffer, `${what}: not a view of the input`);
  assert.ok(view.byteOffset >= outer.byteOffset && view.byteOffset + view.length <= outer.byteOffset + outer.length,
    `${what}: [${view.byteOffset}, +${view.length}) outside the input [${outer.byteOffset}, +${outer.length})`);
}

function int(v: unknown, min: number, max: number, what: string): void {
  assert.ok(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max, `${what}: ${String(v)} not in ${min}..${max}`);
}

function utf8Length(s: unknown, maxBytes: number, what: string): void {
  assert.equal(typeof s, 'string', what);
  assert.ok(Buffer.byteLength(s as string) <= maxBytes, `${what}: too long`);
}

/** A decoded value for comparison between runs: byte views (all inside the input, see `within`) by position
 *  relative to the input, which is cheaper than their bytes and also says where they are. */
function digest(v: unknown, input: Uint8Array): unknown {
  if (v instanceof Uint8Array) return `@${v.byteOffset - input.byteOffset}+${v.length}`;
  if (Array.isArray(v)) return v.map((x) => digest(x, input));
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.keys(o).map((k) => `${k}=${String(digest(o[k], input))}`).join(',');
  }
  return typeof v === 'bigint' ? `${v}n` : v;
}

/** The range checks of each attribute's decoded value. */
function checkValue(type: number, v: unknown, raw: Uint8Array, what: string): void {
  const o = v as Record<string, unknown>;
  switch (type) {
    case Attr.MAPPED_ADDRESS: case Attr.XOR_MAPPED_ADDRESS: case Attr.ALTERNATE_SERVER:
    case Attr.XOR_PEER_ADDRESS: case Attr.XOR_RELAYED_ADDRESS:
      assert.ok(o.family === 4 || o.family === 6, `${what}: family ${String(o.family)}`);
      int(o.port, 0, 0xffff, `${what}.port`);
      assert.equal(ipFamily(o.address as string), o.family, `${what}: address ${String(o.address)}`);
      return;
    case Attr.USERNAME: return utf8Length(v, 512, what);
    case Attr.REALM: case Attr.NONCE: case Attr.SOFTWARE: return utf8Length(v, 763, what);
    case Attr.ALTERNATE_DOMAIN: return utf8Length(v, 255, what);
    case Attr.LIFETIME: case Attr.CONNECTION_ID: case Attr.FINGERPRINT: case Attr.PRIORITY:
      return int(v, 0, 0xffffffff, what);
    case Attr.CHANNEL_NUMBER: return int(v, 0, 0xffff, what);
    case Attr.REQUESTED_TRANSPORT: case Attr.REQUESTED_ADDRESS_FAMILY: case Attr.ADDITIONAL_ADDRESS_FAMILY:
      return int(v, 0, 0xff, what);
    case Attr.EVEN_PORT: assert.equal(typeof o.reserve, 'boolean', what); return;
    case Attr.DONT_FRAGMENT: case Attr.USE_CANDIDATE: assert.equal(v, true, what); return;
    case Attr.ICMP:
      int(o.type, 0, 0xff, `${what}.type`);
      int(o.code, 0, 0xff, `${what}.code`);
      return int(o.data, 0, 0xffffffff, `${what}.data`);
    case Attr.DATA: case Attr.RESERVATION_TOKEN: case Attr.USERHASH: case Attr.MESSAGE_INTEGRITY:
    case Attr.MESSAGE_INTEGRITY_SHA256:
      return within(v as Uint8Array, raw, what);
    case Attr.ERROR_CODE: case Attr.ADDRESS_ERROR_CODE:
      int(o.code, 300, 699, `${what}.code`);
      utf8Length(o.reason, 763, `${what}.reason`);
      if (type === Attr.ADDRESS_ERROR_CODE) int(o.family, 0, 0xff, `${what}.family`);
      return;
    case Attr.UNKNOWN_ATTRIBUTES:
      assert.ok(Array.isArray(v), what);
      for (const t of v as unknown[]) int(t, 0, 0xffff, what);
      return;
    case Attr.PASSWORD_ALGORITHM: case Attr.PASSWORD_ALGORITHMS:
      for (const a of (Array.isArray(v) ? v : [v]) as Record<string, unknown>[]) {
        int(a.algorithm, 0, 0xffff, `${what}.algorithm`);
        within(a.parameters as Uint8Array, raw, `${what}.parameters`);
      }
      return;
    case Attr.ICE_CONTROLLED: case Attr.ICE_CONTROLLING:
      assert.ok(typeof v === 'bigint' && v >= 0n && v < 1n << 64n, what);
      return;
    default:
      assert.fail(`${what}: no range check for attribute 0x${type.toString(16)}`);
  }
}

function checkMessage(m: StunMessage, input: Uint8Array, keys: readonly Uint8Array[], guarded: boolean,
  reference: boolean, out: unknown[]): void {
  const raw = m.raw;
  within(raw, input, 'raw');
  assert.equal(raw.byteOffset, input.byteOffset, 'raw starts where the input does');
  assert.equal(raw.length, 20 + ((raw[2] << 8) | raw[3]), 'raw is header + length');
  int(m.method, 0, 0xfff, 'method');
  assert.ok(CLASSES.has(m.cls), `class ${m.cls}`);
  within(m.transactionId, raw, 'transactionId');
  assert.equal(m.transactionId.length, 12);
  assert.equal(m.xorKey.length, 16);
  assert.equal(m.attrs.length % 3, 0);
  for (let i = 0; i < m.attrs.length; i += 3) {
    const [type, off, len] = [m.attrs[i], m.attrs[i + 1], m.attrs[i + 2]];
    int(type, 0, 0xffff, 'attribute type');
    int(off, 24, raw.length, 'attribute offset');
    assert.equal(off % 4, 0, 'attribute offset is 4-aligned');
    int(len, 0, raw.length - off, 'attribute length');
    assert.equal((raw[off - 4] << 8) | raw[off - 3], type, 'attribute type matches the wire');
  }
  for (const [name, at, type] of [['integrity', m.integrityOffset, Attr.MESSAGE_INTEGRITY],
    ['integritySha256', m.integritySha256Offset, Attr.MESSAGE_INTEGRITY_SHA256],
    ['fingerprint', m.fingerprintOffset, Attr.FINGERPRINT]] as const) {
    if (at === -1) continue;
    int(at, 20, raw.length - 4, `${name}Offset`);
    assert.equal((raw[at] << 8) | raw[at + 1], type, `${name}Offset points at its attribute`);
  }
  out.push(m.method, m.cls, m.attrs, m.integrityOffset, m.integritySha256Offset, m.fingerprintOffset);

  for (const codec of CODECS) {
    const one = m.get(codec);
    const all = m.getAll(codec);
    if (!m.has(codec.type)) {
      assert.equal(one, undefined, codec.name);
      assert.deepEqual(all, [], codec.name);
    }
    if (one !== undefined) checkValue(codec.type, one, raw, `get(${codec.name})`);
    if (all !== undefined) {
      all.forEach((v, i) => checkValue(codec.type, v, raw, `getAll(${codec.name})[${i}]`));
      if (all.length > 0) assert.deepEqual(plain(all[0]), plain(one), `get(${codec.name}) is getAll()[0]`);
    }
    out.push(digest(one, input), all === undefined ? null : all.length);
  }
  // The codecs again, on guarded views of each attribute value, so their own indexing is bounds-checked.
  for (let i = 0; i < m.attrs.length; i += 3) {
    const codec = ATTRIBUTES.get(m.attrs[i]) as AttributeCodec<unknown> | undefined;
    const v = m.value(m.attrs[i]);
    assert.ok(v !== undefined);
    within(v, raw, 'value()');
    if (guarded && codec !== undefined && GUARDABLE.has(codec)) codec.decode(guard(v), guard(m.xorKey));
  }

  for (const key of keys) {
    const mi = verifyMessageIntegrity(m, key);
    const miSha = verifyMessageIntegritySha256(m, key);
    if (reference) {
      assert.equal(mi, referenceVerify(raw, m.integrityOffset, 'sha1', key), 'MESSAGE-INTEGRITY agrees with the reference');
      assert.equal(miSha, referenceVerify(raw, m.integritySha256Offset, 'sha256', key),
        'MESSAGE-INTEGRITY-SHA256 agrees with the reference');
    }
    out.push(mi, miSha);
  }
}

function referenceVerify(raw: Uint8Array, off: number, hash: 'sha1' | 'sha256', key: Uint8Array): boolean {
  if (off < 0) return false;
  const len = (raw[off + 2] << 8) | raw[off + 3];
  if (hash === 'sha1' ? len !== 20 : len < 16 || len > 32 || len % 4 !== 0) return false;
  return referenceHmac(raw, off, len, hash, key).equals(raw.subarray(off + 4, off + 4 + len));
}

/** Runs every decoder over `input` and checks the results; returns a digest of them. */
export interface ExerciseOptions {
  /** Also run the textual codecs on slices of the input (slow: TextDecoder throws to reject). */
  readonly allText: boolean;
  /** Hand the codecs guarded views (slow: every byte read goes through a Proxy). */
  readonly guarded: boolean;
  /** Check integrity results against the reference (done once per input; the other runs compare digests). */
  readonly reference: boolean;
}

export function exercise(input: Uint8Array, keys: readonly Uint8Array[], o: ExerciseOptions): string {
  const out: unknown[] = [];
  let exactMessage: StunMessage | undefined;
  for (const exact of [true, false]) {
    const r = decodeStun(input, exact);
    out.push(r.ok, r.ok ? null : r.reason, r.ok ? null : r.unknown ?? null);
    if (!r.ok && r.reason === 'unknown-attributes') {
      assert.ok(r.unknown !== undefined && r.unknown.length > 0, 'unknown-attributes lists them');
      for (const t of r.unknown) assert.ok(isComprehensionRequired(t) && !ATTRIBUTES.has(t), `0x${t.toString(16)} is unknown`);
    }
    if (!r.ok && r.reason === 'unknown-attributes') assert.ok(r.message !== undefined, 'a 420 needs the message');
    if (r.ok && r.message.fingerprintOffset >= 0) {
      const fp = r.message.fingerprintOffset;
      const raw = r.message.raw;
      assert.equal(((raw[fp + 4] << 24) | (raw[fp + 5] << 16) | (raw[fp + 6] << 8) | raw[fp + 7]) >>> 0,
        referenceFingerprint(raw, fp), 'an accepted FINGERPRINT agrees with the reference');
    }
    const m = r.message;
    if (m === undefined) continue;
    // A stream-mode decode of a datagram-sized input yields the same message: check it once.
    if (!exact && exactMessage !== undefined && m.raw.length === exactMessage.raw.length) continue;
    checkMessage(m, input, keys, o.guarded, o.reference, out);
    if (exact) exactMessage = m;
  }

  const cd = decodeChannelData(input);
  out.push(isChannelData(input), looksLikeStun(input));
  if (cd !== undefined) {
    int(cd.channel, 0x4000, 0x7fff, 'channel');
    within(cd.payload, input, 'payload');
    assert.equal(cd.payload.byteOffset, input.byteOffset + 4);
    assert.equal(cd.payload.length, (input[2] << 8) | input[3]);
    out.push(cd.channel, cd.payload.length);
  }

  // Every codec straight on slices of the input (lengths that hit the fixed-size attributes); the textual ones
  // on two of them and only with `allText`.
  const n = input.length;
  const slices = [[0, n], [Math.min(20, n), n], [Math.min(4, n), n], [0, Math.min(n, 8)], [0, Math.min(n, 20)],
    [Math.min(1, n), Math.min(n, 33)]];
  for (let s = 0; s < slices.length; s++) {
    const slice = input.subarray(slices[s][0], slices[s][1]);
    for (const codec of CODECS) {
      if (TEXTUAL.has(codec.type) && (s >= 2 || !o.allText)) continue;
      const v = codec.decode(o.guarded && GUARDABLE.has(codec) ? guard(slice) : slice, FIXED_XOR_KEY);
      if (v !== undefined) checkValue(codec.type, v, input, `${codec.name}.decode`);
      out.push(digest(v, input));
    }
  }
  return JSON.stringify(out);
}
