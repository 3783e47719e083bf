// Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1): the server keeps no state for a client
// until it has proved it receives datagrams at its claimed address, so a flood of ClientHellos from
// spoofed sources costs one HMAC each and no memory.

import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { ClientHelloView } from './client-hello.ts';

export const COOKIE_LENGTH = 20;

export class CookieJar {
  // KeyObjects: createHmac imports raw key bytes again on every call, which costs more than the HMAC itself.
  #secret = newSecret();
  #previous = newSecret();
  #rotatedAt: number;
  readonly #lifetimeMs: number;

  constructor(now: number, lifetimeMs = 60_000) {
    this.#rotatedAt = now;
    this.#lifetimeMs = lifetimeMs;
  }

  /**
   * RFC 6347 §4.2.1: "Cookie = HMAC(Secret, Client-IP, Client-Parameters)" and the secret is changed
   * periodically; a cookie stays valid for one to two lifetimes.
   */
  rotate(now: number): void {
    if (now - this.#rotatedAt < this.#lifetimeMs) return;
    this.#previous = this.#secret;
    this.#secret = newSecret();
    this.#rotatedAt = now;
  }

  issue(hello: ClientHelloView, address: string, port: number): Buffer {
    return mac(this.#secret, hello, address, port);
  }

  /** True when the ClientHello carries the cookie this server would issue to it now or last period. */
  verify(hello: ClientHelloView, address: string, port: number): boolean {
    if (hello.cookieLength !== COOKIE_LENGTH) return false;
    const cookie = hello.datagram.subarray(hello.cookieAt + 1, hello.cookieAt + 1 + COOKIE_LENGTH);
    return (
      timingSafeEqual(cookie, mac(this.#secret, hello, address, port)) ||
      timingSafeEqual(cookie, mac(this.#previous, hello, address, port))
    );
  }
}

/**
 * Client-Parameters: version, random and session_id, then cipher_suites and compression_methods:
 * everything before the extensions except the cookie itself, which a retransmitted ClientHello
 * repeats byte for byte (RFC 6347 §4.2.1).
 */
function newSecret(): KeyObject {
  return createSecretKey(randomBytes(32));
}

function mac(secret: KeyObject, hello: ClientHelloView, address: string, port: number): Buffer {
  const h = createHmac('sha256', secret);
  // The separator keeps (1.2.3.4, 56) and (1.2.3.45, 6) apart.
  h.update(`${address}#${port}`);
  h.update(hello.datagram.subarray(hello.bodyStart, hello.cookieAt));
  h.update(hello.datagram.subarray(hello.suitesAt, hello.compressionEnd));
  return h.digest().subarray(0, COOKIE_LENGTH);
}
