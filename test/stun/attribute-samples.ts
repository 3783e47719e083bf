// Sample values for every attribute codec in the ATTRIBUTES table, keyed by attribute type, used by the
// round-trip and fuzz tests. A codec added to the table without samples here makes the round-trip test fail.
import {
  Attr, ERROR_REASONS, PASSWORD_ALGORITHM_MD5, PASSWORD_ALGORITHM_SHA256, TRANSPORT_TCP, TRANSPORT_UDP,
  errorCode, type TransportAddress,
} from '../../src/stun/index.ts';

export const IPV4_ADDRESSES: readonly TransportAddress[] = [
  { family: 4, address: '192.0.2.1', port: 32853 },
  { family: 4, address: '0.0.0.0', port: 0 },
  { family: 4, address: '255.255.255.255', port: 65535 },
  { family: 4, address: '127.0.0.1', port: 3478 },
];

export const IPV6_ADDRESSES: readonly TransportAddress[] = [
  { family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 },
  { family: 6, address: '::', port: 0 },
  { family: 6, address: '::1', port: 65535 },
  { family: 6, address: 'fe80::1:2:3', port: 49152 },
  { family: 6, address: '2001:db8::', port: 1 },
  { family: 6, address: '::ffff:192.0.2.1', port: 3478 },
  { family: 6, address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 5349 },
];

const addresses = [...IPV4_ADDRESSES, ...IPV6_ADDRESSES];

const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** Multi-byte text: 2-, 3- and 4-byte UTF-8 sequences. */
const UNICODE = 'é€😀';

export const SAMPLES: ReadonlyMap<number, readonly unknown[]> = new Map<number, readonly unknown[]>([
  [Attr.MAPPED_ADDRESS, addresses],
  [Attr.XOR_MAPPED_ADDRESS, addresses],
  [Attr.ALTERNATE_SERVER, addresses],
  [Attr.XOR_PEER_ADDRESS, addresses],
  [Attr.XOR_RELAYED_ADDRESS, addresses],
  // RFC 8489 §14.3: fewer than 513 bytes.
  [Attr.USERNAME, ['alice', '', 'マトリックス', 'user:1700000000', 'u'.repeat(512), '😀'.repeat(128)]],
  // §14.9, §14.10, §14.14: fewer than 128 characters.
  [Attr.REALM, ['example.org', '', 'r'.repeat(127), '😀'.repeat(127), UNICODE]],
  [Attr.NONCE, ['f//499k954d6OL34oL9FSTvy64sA', 'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA', 'n'.repeat(127)]],
  [Attr.SOFTWARE, ['STUN test client', 'test vector', '€'.repeat(127)]],
  [Attr.ALTERNATE_DOMAIN, ['turn.example.com', 'd'.repeat(255)]],
  [Attr.LIFETIME, [0, 600, 3600, 0xffffffff]],
  [Attr.CONNECTION_ID, [0, 1, 0x80000000, 0xffffffff]],
  [Attr.FINGERPRINT, [0, 0xe57a3bcf, 0xffffffff]],
  [Attr.CHANNEL_NUMBER, [0x4000, 0x4abc, 0x4fff]],
  [Attr.REQUESTED_TRANSPORT, [TRANSPORT_UDP, TRANSPORT_TCP, 0, 255]],
  [Attr.REQUESTED_ADDRESS_FAMILY, [1, 2]],
  [Attr.ADDITIONAL_ADDRESS_FAMILY, [2]],
  [Attr.EVEN_PORT, [{ reserve: true }, { reserve: false }]],
  [Attr.DONT_FRAGMENT, [true]],
  [Attr.ICMP, [{ type: 3, code: 1, data: 0 }, { type: 255, code: 255, data: 0xffffffff }, { type: 0, code: 0, data: 0x01020304 }]],
  [Attr.DATA, [bytes(0), bytes(1), bytes(2), bytes(3), bytes(4), bytes(5), bytes(1200), bytes(0xffff - 100)]],
  [Attr.RESERVATION_TOKEN, [bytes(8)]],
  [Attr.USERHASH, [bytes(32)]],
  [Attr.MESSAGE_INTEGRITY, [bytes(20)]],
  [Attr.MESSAGE_INTEGRITY_SHA256, [bytes(16), bytes(20), bytes(24), bytes(28), bytes(32)]],
  [Attr.ERROR_CODE, [...Object.keys(ERROR_REASONS).map((c) => errorCode(Number(c))), errorCode(699, ''),
    errorCode(300, UNICODE), errorCode(401, 'x'.repeat(127))]],
  [Attr.ADDRESS_ERROR_CODE, [{ family: 1, ...errorCode(440) }, { family: 2, ...errorCode(508) }]],
  [Attr.UNKNOWN_ATTRIBUTES, [[], [0x0030], [0x0030, 0x7fff], [0x0001, 0x0002, 0x0003]]],
  [Attr.PASSWORD_ALGORITHM, [
    { algorithm: PASSWORD_ALGORITHM_MD5, parameters: bytes(0) },
    { algorithm: PASSWORD_ALGORITHM_SHA256, parameters: bytes(0) },
    { algorithm: 0xffff, parameters: bytes(3) },
  ]],
  [Attr.PASSWORD_ALGORITHMS, [
    [],
    [{ algorithm: PASSWORD_ALGORITHM_SHA256, parameters: bytes(0) }, { algorithm: PASSWORD_ALGORITHM_MD5, parameters: bytes(0) }],
    [{ algorithm: 7, parameters: bytes(1) }, { algorithm: 8, parameters: bytes(6) }, { algorithm: 9, parameters: bytes(4) }],
  ]],
  [Attr.PRIORITY, [0, 0x6e0001ff, 0xffffffff]],
  [Attr.USE_CANDIDATE, [true]],
  [Attr.ICE_CONTROLLED, [0n, 0x932ff9b151263b36n, 0xffffffffffffffffn]],
  [Attr.ICE_CONTROLLING, [1n, 0x8000000000000000n]],
]);

/** Deep comparison form: byte arrays of any class become hex strings. */
export function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex')}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}
