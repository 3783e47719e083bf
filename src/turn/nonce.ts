// Stateless NONCEs (RFC 8489 §9.2): a timestamp plus an HMAC over it and the client address, so the
// server keeps no per-client state before authentication and can tell a stale nonce from a forged one.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { NONCE_LIFETIME_S } from './timers.ts';

export type NonceCheck = 'valid' | 'stale' | 'invalid';

const MAC_BYTES = 10;

export class NonceIssuer {
  /** A KeyObject: createHmac with raw key bytes imports them again on every call, several times the HMAC's cost. */
  readonly #secret: KeyObject;
  readonly #lifetimeMs: number;

  /** Issuers with the same `secret` (every worker thread's) accept each other's nonces. */
  constructor(lifetimeS = NONCE_LIFETIME_S, secret: Uint8Array = randomBytes(32)) {
    this.#secret = createSecretKey(secret);
    this.#lifetimeMs = lifetimeS * 1000;
  }

  issue(clientAddress: string, nowMs: number): string {
    const ts = Buffer.allocUnsafe(6);
    ts.writeUIntBE(Math.floor(nowMs), 0, 6);
    return Buffer.concat([ts, this.#mac(ts, clientAddress)]).toString('base64url');
  }

  check(nonce: string, clientAddress: string, nowMs: number): NonceCheck {
    const b = Buffer.from(nonce, 'base64url');
    if (b.length !== 6 + MAC_BYTES || b.toString('base64url') !== nonce) return 'invalid';
    const ts = b.subarray(0, 6);
    if (!timingSafeEqual(this.#mac(ts, clientAddress), b.subarray(6))) return 'invalid';
    const issued = ts.readUIntBE(0, 6);
    return nowMs - issued > this.#lifetimeMs || issued > nowMs + 60_000 ? 'stale' : 'valid';
  }

  #mac(ts: Buffer, clientAddress: string): Buffer {
    return createHmac('sha256', this.#secret).update(ts).update(clientAddress).digest().subarray(0, MAC_BYTES);
  }
}
