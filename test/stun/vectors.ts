// Byte vectors from RFC 5769 ("Test Vectors for STUN") §2.1-§2.4 and RFC 8489 Appendix B.1, laid out as the
// RFCs print them: one 32-bit word a line. The bytes were transcribed from a reproduction of the RFC text (in
// WebRTC's STUN unit tests); the tests prove the transcription exact, because every MESSAGE-INTEGRITY and
// FINGERPRINT below re-computes with node:crypto / node:zlib over the bytes it covers (reference.ts).

/** Parses whitespace-separated hex words; `//` comments run to the end of a line. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
}

/** RFC 5769 §2: the short-term password of the sample request and responses. */
export const SAMPLE_PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';
export const SAMPLE_TRANSACTION_ID = hex('b7e7a701 bc34d686 fa87dfae');

/** RFC 5769 §2.1 Sample Request. SOFTWARE "STUN test client", PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY"
 *  whose three padding bytes are 0x20 (spaces), MESSAGE-INTEGRITY, FINGERPRINT. */
export const RFC5769_REQUEST = hex(`
  00 01 00 58   // Request type and message length
  21 12 a4 42   // Magic cookie
  b7 e7 a7 01   // }
  bc 34 d6 86   // }  Transaction ID
  fa 87 df ae   // }
  80 22 00 10   // SOFTWARE attribute header
  53 54 55 4e   // }
  20 74 65 73   // }  User-agent...
  74 20 63 6c   // }  ...name
  69 65 6e 74   // }
  00 24 00 04   // PRIORITY attribute header
  6e 00 01 ff   // ICE priority value
  80 29 00 08   // ICE-CONTROLLED attribute header
  93 2f f9 b1   // }  Pseudo-random tie breaker...
  51 26 3b 36   // }   ...for ICE control
  00 06 00 09   // USERNAME attribute header
  65 76 74 6a   // }
  3a 68 36 76   // }  Username (9 bytes) and padding (3 bytes)
  59 20 20 20   // }
  00 08 00 14   // MESSAGE-INTEGRITY attribute header
  9a ea a7 0c   // }
  bf d8 cb 56   // }
  78 1e f2 b5   // }  HMAC-SHA1 fingerprint
  b2 d3 f2 49   // }
  c1 b5 71 a2   // }
  80 28 00 04   // FINGERPRINT attribute header
  e5 7a 3b cf   // CRC32 fingerprint
`);

/** RFC 5769 §2.2 Sample IPv4 Response: SOFTWARE "test vector" (padding 0x20), XOR-MAPPED-ADDRESS
 *  192.0.2.1:32853, MESSAGE-INTEGRITY, FINGERPRINT. */
export const RFC5769_IPV4_RESPONSE = hex(`
  01 01 00 3c   // Response type and message length
  21 12 a4 42   // Magic cookie
  b7 e7 a7 01   // }
  bc 34 d6 86   // }  Transaction ID
  fa 87 df ae   // }
  80 22 00 0b   // SOFTWARE attribute header
  74 65 73 74   // }
  20 76 65 63   // }  UTF-8 server name
  74 6f 72 20   // }
  00 20 00 08   // XOR-MAPPED-ADDRESS attribute header
  00 01 a1 47   // Address family (IPv4) and xor'd mapped port number
  e1 12 a6 43   // Xor'd mapped IPv4 address
  00 08 00 14   // MESSAGE-INTEGRITY attribute header
  2b 91 f5 99   // }
  fd 9e 90 c3   // }
  8c 74 89 f9   // }  HMAC-SHA1 fingerprint
  2a f9 ba 53   // }
  f0 6b e7 d7   // }
  80 28 00 04   // FINGERPRINT attribute header
  c0 7d 4c 96   // CRC32 fingerprint
`);

/** RFC 5769 §2.3 Sample IPv6 Response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
export const RFC5769_IPV6_RESPONSE = hex(`
  01 01 00 48   // Response type and message length
  21 12 a4 42   // Magic cookie
  b7 e7 a7 01   // }
  bc 34 d6 86   // }  Transaction ID
  fa 87 df ae   // }
  80 22 00 0b   // SOFTWARE attribute header
  74 65 73 74   // }
  20 76 65 63   // }  UTF-8 server name
  74 6f 72 20   // }
  00 20 00 14   // XOR-MAPPED-ADDRESS attribute header
  00 02 a1 47   // Address family (IPv6) and xor'd mapped port number
  01 13 a9 fa   // }
  a5 d3 f1 79   // }  Xor'd mapped IPv6 address
  bc 25 f4 b5   // }
  be d2 b9 d9   // }
  00 08 00 14   // MESSAGE-INTEGRITY attribute header
  a3 82 95 4e   // }
  4b e6 7b f1   // }
  17 84 c9 7c   // }  HMAC-SHA1 fingerprint
  82 92 c2 75   // }
  bf e3 ed 41   // }
  80 28 00 04   // FINGERPRINT attribute header
  c8 fb 0b 4c   // CRC32 fingerprint
`);

/** RFC 5769 §2.4: long-term credentials. The RFC gives the password as "The<U+00AD>M<U+00AA>tr<U+2168>",
 *  which SASLprep maps to "TheMatrIX"; key = MD5("マトリックス:example.org:TheMatrIX"). */
export const LONG_TERM_USERNAME = '\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9'; // マトリックス
export const LONG_TERM_PASSWORD = 'TheMatrIX';
export const LONG_TERM_REALM = 'example.org';
export const LONG_TERM_NONCE = 'f//499k954d6OL34oL9FSTvy64sA';
export const LONG_TERM_TRANSACTION_ID = hex('78ad3433 c6ad72c0 29da412e');

export const RFC5769_LONG_TERM_REQUEST = hex(`
  00 01 00 60   // Request type and message length
  21 12 a4 42   // Magic cookie
  78 ad 34 33   // }
  c6 ad 72 c0   // }  Transaction ID
  29 da 41 2e   // }
  00 06 00 12   // USERNAME attribute header
  e3 83 9e e3   // }
  83 88 e3 83   // }
  aa e3 83 83   // }  Username value (18 bytes) and padding (2 bytes)
  e3 82 af e3   // }
  82 b9 00 00   // }
  00 15 00 1c   // NONCE attribute header
  66 2f 2f 34   // }
  39 39 6b 39   // }
  35 34 64 36   // }
  4f 4c 33 34   // }  Nonce value
  6f 4c 39 46   // }
  53 54 76 79   // }
  36 34 73 41   // }
  00 14 00 0b   // REALM attribute header
  65 78 61 6d   // }
  70 6c 65 2e   // }  Realm value (11 bytes) and padding (1 byte)
  6f 72 67 00   // }
  00 08 00 14   // MESSAGE-INTEGRITY attribute header
  f6 70 24 65   // }
  6d d6 4a 3e   // }
  02 b8 e0 71   // }  HMAC-SHA1 fingerprint
  2e 85 c9 a2   // }
  8c a8 96 66   // }
`);

/** RFC 8489 Appendix B.1: the same credentials with USERHASH, PASSWORD-ALGORITHM SHA-256 and
 *  MESSAGE-INTEGRITY-SHA256; the nonce starts with the "obMatJos2" security-feature cookie. */
export const RFC8489_NONCE = 'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA';

export const RFC8489_SHA256_REQUEST = hex(`
  00 01 00 90   // Request type and message length
  21 12 a4 42   // Magic cookie
  78 ad 34 33   // }
  c6 ad 72 c0   // }  Transaction ID
  29 da 41 2e   // }
  00 1e 00 20   // USERHASH attribute header
  4a 3c f3 8f   // }
  ef 69 92 bd   // }
  a9 52 c6 78   // }
  04 17 da 0f   // }  Userhash value (32 bytes)
  24 81 94 15   // }
  56 9e 60 b2   // }
  05 c4 6e 41   // }
  40 7f 17 04   // }
  00 15 00 29   // NONCE attribute header
  6f 62 4d 61   // }
  74 4a 6f 73   // }
  32 41 41 41   // }
  43 66 2f 2f   // }
  34 39 39 6b   // }
  39 35 34 64   // }  Nonce value and padding (3 bytes)
  36 4f 4c 33   // }
  34 6f 4c 39   // }
  46 53 54 76   // }
  79 36 34 73   // }
  41 00 00 00   // }
  00 14 00 0b   // REALM attribute header
  65 78 61 6d   // }
  70 6c 65 2e   // }  Realm value (11 bytes) and padding (1 byte)
  6f 72 67 00   // }
  00 1d 00 04   // PASSWORD-ALGORITHM attribute header
  00 02 00 00   // PASSWORD-ALGORITHM value (4 bytes)
  00 1c 00 20   // MESSAGE-INTEGRITY-SHA256 attribute header
  b5 c7 bf 00   // }
  5b 6c 52 a2   // }
  1c 51 c5 e8   // }
  92 f8 19 24   // }  HMAC-SHA256 value
  13 62 96 cb   // }
  92 7c 43 14   // }
  93 09 27 8c   // }
  c6 51 8e 65   // }
`);
