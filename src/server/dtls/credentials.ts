// Validates and normalises the listener's certificate and key once, so every handshake starts from
// material known to be usable, and a bad reload is refused before it replaces a good one.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { DtlsError, DtlsErrorCode } from './errors.ts';

/** Signature algorithms of RFC 5246 §7.4.1.4.1 that the handshake can sign with. */
export const SignatureAlgorithm = { rsa: 1, ecdsa: 3 } as const;
export type SignatureAlgorithm = (typeof SignatureAlgorithm)[keyof typeof SignatureAlgorithm];
/** HashAlgorithm sha256(4): the only hash the ServerKeyExchange is signed with. */
export const HASH_SHA256 = 4;

export interface Credentials {
  /** The leaf certificate alone, PEM. */
  readonly certPem: string;
  /** The key as unencrypted PKCS#8 PEM, whatever form it came in. */
  readonly keyPem: string;
  readonly signature: SignatureAlgorithm;
  /** Subject of the leaf, for logs. */
  readonly subject: string;
  readonly validTo: string;
}

/**
 * Parses a PEM certificate (a chain is accepted; only its first, the leaf, is sent, see README) and a
 * PEM private key (PKCS#1, SEC1 or PKCS#8), and checks that they belong together.
 */
export function loadCredentials(cert: string, key: string): Credentials {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new DtlsError(DtlsErrorCode.badCertificate, 'expected a PEM X.509 certificate', 'cert', { cause: err });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new DtlsError(DtlsErrorCode.badKey, 'expected an unencrypted PEM private key', 'key', { cause: err });
  }
  const type = privateKey.asymmetricKeyType;
  let signature: SignatureAlgorithm;
  if (type === 'rsa') signature = SignatureAlgorithm.rsa;
  else if (type === 'ec') signature = SignatureAlgorithm.ecdsa;
  else {
    throw new DtlsError(DtlsErrorCode.keyType, `expected an RSA or ECDSA key, got ${type ?? 'unknown'}`, 'key');
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new DtlsError(DtlsErrorCode.keyMismatch, 'the key does not match the certificate', 'key');
  }
  return {
    certPem: x509.toString(),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    signature,
    subject: x509.subject,
    validTo: x509.validTo,
  };
}
