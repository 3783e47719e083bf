// `ephemeral` (alias `longterm`) authentication, the TURN REST API scheme
// (draft-uberti-behave-turn-rest-00 §2.2): username `<expiry-unix-seconds>[:<user-id>]`,
// password `base64(HMAC-SHA1(secret, username))`. Expired usernames are rejected.
import { createHmac, createSecretKey } from 'node:crypto';
import { longTermKey } from '../stun/integrity.ts';
import type { AuthRejection, Authenticator, Credential } from './authenticator.ts';

export function ephemeralPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/** Splits `<expiry>[:<user-id>]` (also accepting `<user-id>:<expiry>`, which some clients produce). */
export function parseEphemeralUsername(username: string): { expiry: number; userId: string } | undefined {
  const i = username.indexOf(':');
  if (i < 0) return /^\d+$/.test(username) ? { expiry: Number(username), userId: username } : undefined;
  const head = username.slice(0, i);
  const tail = username.slice(i + 1);
  if (/^\d+$/.test(head)) return { expiry: Number(head), userId: tail === '' ? username : tail };
  const j = username.lastIndexOf(':');
  const last = username.slice(j + 1);
  if (/^\d+$/.test(last)) return { expiry: Number(last), userId: username.slice(0, j) };
  return undefined;
}

/** Credentials derived per username are kept this many at most (a username carries its own expiry). */
const CACHE_SIZE = 10_000;

export class EphemeralAuthenticator implements Authenticator {
  readonly #secret: string;
  readonly #realm: string;
  readonly #now: () => number;
  /** Deriving a key is two HMACs and a key import; refreshes and permissions reuse it. */
  readonly #cache = new Map<string, Credential>();

  constructor(secret: string, realm: string, now: () => number = Date.now) {
    this.#secret = secret;
    this.#realm = realm;
    this.#now = now;
  }

  authenticate(username: string, realm: string): Credential | AuthRejection {
    if (realm !== this.#realm) return 'unknown-user';
    const parsed = parseEphemeralUsername(username);
    if (parsed === undefined) return 'malformed-username';
    if (parsed.expiry * 1000 < this.#now()) return 'expired';
    let cred = this.#cache.get(username);
    if (cred === undefined) {
      const password = ephemeralPassword(this.#secret, username);
      cred = { key: createSecretKey(longTermKey(username, realm, password)), userId: parsed.userId };
      if (this.#cache.size >= CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(username, cred);
    }
    return cred;
  }
}
