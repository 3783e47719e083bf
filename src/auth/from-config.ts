// Builds the authenticator an `auth` config section describes.
import type { AuthConfig } from '../config/types.ts';
import type { Authenticator } from './authenticator.ts';
import { EphemeralAuthenticator } from './ephemeral-auth.ts';
import { StaticAuthenticator } from './static-auth.ts';

/** auth.type none (upstream's STUN-only mode): no user has a key, so every authenticated request is refused. */
const NO_USERS: Authenticator = { authenticate: () => 'unknown-user' };

export function authenticatorFromConfig(auth: AuthConfig, now: () => number = Date.now): Authenticator {
  if (auth.type === 'none') return NO_USERS;
  if (auth.type === 'ephemeral') return new EphemeralAuthenticator(auth.credentials.secret ?? '', auth.realm, now);
  return new StaticAuthenticator(auth.credentials.username ?? '', auth.credentials.password ?? '', auth.realm);
}
