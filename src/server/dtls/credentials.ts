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
  /** The certificate chain as sent in the Certificate message: the leaf first, then its issuers, DER. */
  readonly chain: readonly Buffer[];
  /** The key as unencrypted PKCS#8 PEM, whatever form it came in. */
  readonly keyPem: string;
  readonly signature: SignatureAlgorithm;
  /** Subject of the leaf, for logs. */
  readonly subject: string;
  readonly validTo: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/**
 * Parses a PEM certificate or chain (the leaf first, then each certificate's issuer, as for TLS; all of it is
 * sent, RFC 5246 §7.4.2) and a PEM private key (PKCS#1, SEC1 or PKCS#8), and checks that they belong together.
 */
export function loadCredentials(cert: string, key: string): Credentials {
  const blocks = cert.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new DtlsError(DtlsErrorCode.badCertificate, 'expected a PEM X.509 certificate', 'cert');
  const chain: X509Certificate[] = [];
  for (const [i, pem] of blocks.entries()) {
    try {
      chain.push(new X509Certificate(pem));
    } catch (err) {
      const which = i === 0 ? 'expected a PEM X.509 certificate' : `certificate ${i + 1} of the chain is not a valid X.509 certificate`;
      throw new DtlsError(DtlsErrorCode.badCertificate, which, 'cert', { cause: err });
    }
  }
  for (let i = 1; i < chain.length; i++) {
    if (!chain[i - 1].checkIssued(chain[i])) {
      throw new DtlsError(DtlsErrorCode.badCertificate,
        `certificate ${i + 1} of the chain (${chain[i].subject.replace(/\n/g, ', ')}) did not issue certificate ${i}; `
        + 'list the leaf first, then each issuer', 'cert');
    }
  }
  const x509 = chain[0];
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
    chain: chain.map((c) => c.raw),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    signature,
    subject: x509.subject,
    validTo: x509.validTo,
  };
}
