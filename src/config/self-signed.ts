// A self-signed certificate for a TURN-TLS/DTLS listener started from a turns:// URI without a
// certificate, as upstream stunnerd does (GenerateSelfSignedKey). Node can make keys but not
// certificates, so the X.509 (RFC 5280 4.1) DER is assembled here: ECDSA P-256, SHA-256.

import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import { parseIpBytes } from './ip-address.ts';

export interface CertificatePair {
  /** PEM text. */
  readonly cert: string;
  readonly key: string;
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const SUBJECT_ALT_NAME = '2.5.29.17';
const VALIDITY_DAYS = 365;

/** A fresh key and a one-year self-signed certificate naming `host` (DNS name or IP) in its SAN. */
export function selfSignedCertificate(host: string, now: Date = new Date()): CertificatePair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const algorithm = der(0x30, oid(ECDSA_WITH_SHA256));
  const name = der(0x30, der(0x31, der(0x30, oid(COMMON_NAME), der(0x0c, Buffer.from(host, 'utf8')))));
  const notAfter = new Date(now.getTime() + VALIDITY_DAYS * 86_400_000);
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40; // RFC 5280 4.1.2.2: positive, and minimally encoded
  const tbs = der(0x30,
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    der(0x02, serial),
    algorithm,
    name,
    der(0x30, time(now), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, der(0x30, der(0x30, oid(SUBJECT_ALT_NAME), der(0x04, der(0x30, generalName(host)))))));
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const cert = der(0x30, tbs, algorithm, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return der(0x06, Buffer.from(bytes));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
function time(d: Date): Buffer {
  const digits = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(digits.slice(2))) : der(0x18, Buffer.from(digits));
}

/** SAN entry: iPAddress [7] for an IP, dNSName [2] otherwise. */
function generalName(host: string): Buffer {
  const ip = isIP(host) === 0 ? undefined : parseIpBytes(host);
  return ip === undefined ? der(0x82, Buffer.from(host, 'ascii')) : der(0x87, Buffer.from(ip));
}
