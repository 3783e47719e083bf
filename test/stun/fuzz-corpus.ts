// Valid messages the fuzzer mutates: the RFC vectors, one message per attribute codec holding its samples,
// and the shapes a TURN server sees most (authenticated requests, Send/Data indications, error responses),
// each with the key its integrity attributes were computed with.
import {
  ATTRIBUTES, Attr, Data, ErrorCode, Lifetime, MessageClass, Method, Nonce, Realm, RequestedTransport, Software,
  StunWriter, UnknownAttributes, Username, XorPeerAddress, encodeChannelData, errorCode, longTermKey,
  type AttributeCodec,
} from '../../src/stun/index.ts';
import { SAMPLES } from './attribute-samples.ts';
import {
  LONG_TERM_PASSWORD, LONG_TERM_REALM, LONG_TERM_USERNAME, RFC5769_IPV4_RESPONSE, RFC5769_IPV6_RESPONSE,
  RFC5769_LONG_TERM_REQUEST, RFC5769_REQUEST, RFC8489_SHA256_REQUEST, SAMPLE_PASSWORD,
} from './vectors.ts';

export interface Seed {
  readonly bytes: Buffer;
  /** The key of its MESSAGE-INTEGRITY / MESSAGE-INTEGRITY-SHA256, if it has them. */
  readonly key: Buffer;
}

export const SHORT_TERM_KEY = Buffer.from(SAMPLE_PASSWORD);
export const MD5_KEY = longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD);
export const SHA256_KEY = longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD, 'sha256');
const TURN_KEY = longTermKey('user', 'example.org', 'pass');

const TID = Buffer.from('c0ffee00c0ffee00c0ffee00', 'hex');

function build(): Seed[] {
  const seeds: Seed[] = [
    { bytes: RFC5769_REQUEST, key: SHORT_TERM_KEY },
    { bytes: RFC5769_IPV4_RESPONSE, key: SHORT_TERM_KEY },
    { bytes: RFC5769_IPV6_RESPONSE, key: SHORT_TERM_KEY },
    { bytes: RFC5769_LONG_TERM_REQUEST, key: MD5_KEY },
    { bytes: RFC8489_SHA256_REQUEST, key: SHA256_KEY },
  ];
  // One message per codec with every sample small enough to keep cases short, integrity-protected.
  for (const [type, codec] of ATTRIBUTES) {
    if (type === Attr.FINGERPRINT || type === Attr.MESSAGE_INTEGRITY || type === Attr.MESSAGE_INTEGRITY_SHA256) continue;
    const w = new StunWriter(Method.allocate, MessageClass.request, TID);
    for (const v of SAMPLES.get(type) ?? []) {
      const encoded = codec.encode(v, Buffer.alloc(16));
      if (encoded !== undefined && encoded.length <= 300) w.add(codec as AttributeCodec<unknown>, v);
    }
    seeds.push({ bytes: Buffer.from(w.addMessageIntegrity(TURN_KEY).addFingerprint().finish()), key: TURN_KEY });
  }
  const allocate = new StunWriter(Method.allocate, MessageClass.request, TID)
    .add(RequestedTransport, 17).add(Lifetime, 600).add(Username, 'user').add(Realm, 'example.org')
    .add(Nonce, 'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA').addMessageIntegrity(TURN_KEY)
    .addMessageIntegritySha256(TURN_KEY, 24).addFingerprint().finish();
  const send = new StunWriter(Method.send, MessageClass.indication, TID)
    .add(XorPeerAddress, { family: 4, address: '198.51.100.7', port: 40000 }).add(Data, Buffer.alloc(37, 0x5a)).finish();
  const data = new StunWriter(Method.data, MessageClass.indication, TID)
    .add(XorPeerAddress, { family: 6, address: '2001:db8::99', port: 40001 }).add(Data, Buffer.alloc(2, 1)).finish();
  const error = new StunWriter(Method.allocate, MessageClass.errorResponse, TID)
    .add(ErrorCode, errorCode(420)).add(UnknownAttributes, [0x0030, 0x7777, 0x0031]).add(Software, 'stunner')
    .addFingerprint().finish();
  for (const bytes of [allocate, send, data, error]) seeds.push({ bytes: Buffer.from(bytes), key: TURN_KEY });
  return seeds;
}

export const STUN_SEEDS: readonly Seed[] = build();

export const CHANNEL_DATA_SEEDS: readonly Buffer[] = [0, 1, 3, 4, 37, 200].flatMap((n) => [
  encodeChannelData(0x4000 + n, Buffer.alloc(n, n)),
  encodeChannelData(0x4fff - n, Buffer.alloc(n, n), true),
]);
