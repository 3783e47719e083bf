import type { IntegrityKey } from '../stun/integrity.ts';

// The narrow interface the TURN core asks for credentials through (docs/style.md 6): user, realm -> key | reject.

export interface Credential {
  /** The long-term key, RFC 8489 §9.2.2 (a KeyObject: Node re-imports raw key bytes on every HMAC). */
  readonly key: IntegrityKey;
  /** Who the quota counts against: the user id of an ephemeral username, or the username. */
  readonly userId: string;
}

export type AuthRejection = 'unknown-user' | 'expired' | 'malformed-username';

export interface Authenticator {
  /** Looks up the key for `username` in `realm`; called on every authenticated request. */
  authenticate(username: string, realm: string): Credential | AuthRejection;
}
