// TLS material in the config: upstream carries base64-encoded PEM; raw PEM text is accepted too.
// Parsed here so that a bad certificate is a config error, not a listener that fails to start.

import { X509Certificate, createPrivateKey } from 'node:crypto';

const PEM_BEGIN = '-----BEGIN ';

/** PEM text from base64 PEM or PEM; a string result says what is wrong. */
export function decodePem(value: string, what: 'certificate' | 'private key'): { pem: string } | string {
  const trimmed = value.trim();
  if (trimmed.startsWith(PEM_BEGIN)) return { pem: trimmed + '\n' };
  const compact = trimmed.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    return `must be a base64-encoded PEM ${what} or PEM text`;
  }
  const pem = Buffer.from(compact, 'base64').toString('utf8').trim();
  if (!pem.startsWith(PEM_BEGIN)) return `base64 decodes to something other than a PEM ${what}`;
  return { pem: pem + '\n' };
}

/** What is wrong with a certificate / private key pair, per field; {} when they are usable together. */
export function checkCertificatePair(certPem: string, keyPem: string): { cert?: string; key?: string } {
  let cert: X509Certificate | undefined;
  let problems: { cert?: string; key?: string } = {};
  try {
    cert = new X509Certificate(certPem);
  } catch (e) {
    problems = { cert: `not a valid X.509 certificate (${(e as Error).message})` };
  }
  try {
    const key = createPrivateKey(keyPem);
    if (cert !== undefined && !cert.checkPrivateKey(key)) problems = { key: 'does not match the certificate' };
  } catch (e) {
    problems = { ...problems, key: `not a valid private key (${(e as Error).message})` };
  }
  return problems;
}
