// The whole certificate chain in the server's Certificate message. werift-dtls's flight 4 sends only its one
// parsed certificate, so a client that verifies against a CA (every CA-issued certificate, Let's Encrypt's
// among them, needs its intermediate) cannot build the path. RFC 5246 §7.4.2: certificate_list is "the
// sender's certificate" first, then each one "directly certifying the one preceding it".
// Each handshake's cipher context carries its listener's chain under CERTIFICATE_CHAIN; sendCertificateChain()
// replaces werift's Flight4.prototype.sendCertificate with one that reads it (its own single certificate when
// it is absent). Long chains are fragmented by werift and renumbered and split by the handshake engine, like
// any long flight.

import type { CertificateClass, Flight4Class } from './werift-internals.ts';

export const CERTIFICATE_CHAIN = Symbol('certificate chain');

interface Serializable {
  serialize(): Buffer;
}

interface Flight4Like {
  readonly cipher: { readonly localCert: Uint8Array; readonly [CERTIFICATE_CHAIN]?: readonly Buffer[] };
  createPacket(messages: unknown[]): Serializable[];
}

/** Makes werift's flight 4 send the chain given to useCertificateChain(); idempotent. */
export function sendCertificateChain(Flight4: Flight4Class, Certificate: CertificateClass): void {
  Flight4.prototype.sendCertificate = function sendCertificate(this: Flight4Like): Buffer {
    const chain = this.cipher[CERTIFICATE_CHAIN] ?? [Buffer.from(this.cipher.localCert)];
    return Buffer.concat(this.createPacket([new Certificate([...chain])]).map((packet) => packet.serialize()));
  };
}

/** Gives one handshake's cipher context the chain its Certificate message is to carry. */
export function useCertificateChain(cipher: object, chain: readonly Buffer[]): void {
  (cipher as { [CERTIFICATE_CHAIN]?: readonly Buffer[] })[CERTIFICATE_CHAIN] = chain;
}
