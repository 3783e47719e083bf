// ECDHE through node:crypto (OpenSSL) for werift-dtls's handshakes. werift computes X25519 with tweetnacl and
// P-256 with @noble/curves, in JavaScript, which made the key exchange the largest share of a handshake's CPU
// (README.md, "Benchmark"). useNativeKeyExchange() replaces both functions in werift's own module objects,
// which its flights read at every call (`(0, namedCurve_1.generateKeyPair)(…)`); the key formats stay
// werift's: raw 32-byte X25519 keys, an uncompressed P-256 point and the 32-byte x-coordinate as the
// premaster secret (RFC 8422 §5.10). Other curves still go to werift's functions.
// OpenSSL also refuses a peer key that yields the all-zero X25519 secret (RFC 7748 §6.1), which tweetnacl
// accepted; werift then fails that one handshake.

import { createECDH, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import type { ECDH, KeyObject } from 'node:crypto';
import type { CurveKeyPair, NamedCurveModule, PrfModule } from './werift-internals.ts';

/** werift's NamedCurveAlgorithm values (the TLS supported_groups code points). */
export const CURVE_X25519 = 29;
export const CURVE_P256 = 23;

export type { CurveKeyPair };

/** werift's own functions, set aside by useNativeKeyExchange(). */
let werift: { generateKeyPair: NamedCurveModule['generateKeyPair']; preMasterSecret: PrfModule['prfPreMasterSecret'] } | undefined;

/** Puts generateKeyPair and preMasterSecret below into werift's module objects; once. */
export function useNativeKeyExchange(namedCurve: NamedCurveModule, prf: PrfModule): void {
  if (werift !== undefined) return;
  werift = { generateKeyPair: namedCurve.generateKeyPair, preMasterSecret: prf.prfPreMasterSecret };
  namedCurve.generateKeyPair = generateKeyPair;
  prf.prfPreMasterSecret = preMasterSecret;
}

function weriftFunctions(): NonNullable<typeof werift> {
  if (werift === undefined) throw new Error('useNativeKeyExchange() has not run');
  return werift;
}

/** werift's own key pair generation (JavaScript), for the curves not handled here and the cross-check in the tests. */
export function weriftGenerateKeyPair(curve: number): CurveKeyPair {
  return weriftFunctions().generateKeyPair(curve);
}

/** werift's own premaster secret (JavaScript), for the curves not handled here and the cross-check in the tests. */
export function weriftPreMasterSecret(peerPublicKey: Buffer, privateKey: Buffer, curve: number): Buffer {
  return weriftFunctions().preMasterSecret(peerPublicKey, privateKey, curve);
}

/** DER wrappers of a raw X25519 key (RFC 8410): SPKI and PKCS #8 with OID 1.3.101.110. */
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The native private key behind each private-key buffer handed to werift; gone with the handshake. */
const x25519Keys = new WeakMap<Buffer, KeyObject>();
const p256Keys = new WeakMap<Buffer, ECDH>();

export function generateKeyPair(curve: number): CurveKeyPair {
  if (curve === CURVE_X25519) {
    const { privateKey, publicKey } = generateKeyPairSync('x25519', {
      privateKeyEncoding: { format: 'der', type: 'pkcs8' }, publicKeyEncoding: { format: 'der', type: 'spki' },
    });
    const raw = privateKey.subarray(X25519_PKCS8_PREFIX.length);
    x25519Keys.set(raw, createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' }));
    return { curve, privateKey: raw, publicKey: publicKey.subarray(X25519_SPKI_PREFIX.length) };
  }
  if (curve === CURVE_P256) {
    const ecdh = createECDH('prime256v1');
    const publicKey = ecdh.generateKeys();
    // getPrivateKey() drops leading zero bytes (one key in 256); werift's keys are 32 bytes.
    const raw = Buffer.alloc(32);
    const scalar = ecdh.getPrivateKey();
    scalar.copy(raw, 32 - scalar.length);
    p256Keys.set(raw, ecdh);
    return { curve, privateKey: raw, publicKey };
  }
  return weriftGenerateKeyPair(curve);
}

/** Throws on a malformed or degenerate peer key; werift fails the handshake on it. */
export function preMasterSecret(peerPublicKey: Buffer, privateKey: Buffer, curve: number): Buffer {
  if (curve === CURVE_X25519) {
    if (peerPublicKey.length !== 32) throw new RangeError(`X25519 public key of ${peerPublicKey.length} bytes`);
    const own = x25519Keys.get(privateKey)
      ?? createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
    const peer = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerPublicKey]), format: 'der', type: 'spki' });
    return diffieHellman({ privateKey: own, publicKey: peer });
  }
  if (curve === CURVE_P256) {
    let ecdh = p256Keys.get(privateKey);
    if (ecdh === undefined) {
      ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(privateKey);
    }
    return ecdh.computeSecret(peerPublicKey);
  }
  return weriftPreMasterSecret(peerPublicKey, privateKey, curve);
}
