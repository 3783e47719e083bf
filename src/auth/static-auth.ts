// `static` (alias `plaintext`) authentication: one username and password from the config.
import { createSecretKey } from 'node:crypto';
import { longTermKey } from '../stun/integrity.ts';
import type { AuthRejection, Authenticator, Credential } from './authenticator.ts';

export class StaticAuthenticator implements Authenticator {
  readonly #username: string;
  readonly #credential: Credential;
  readonly #realm: string;

  constructor(username: string, password: string, realm: string) {
    this.#username = username;
    this.#realm = realm;
    this.#credential = { key: createSecretKey(longTermKey(username, realm, password)), userId: username };
  }

  authenticate(username: string, realm: string): Credential | AuthRejection {
    if (username !== this.#username || realm !== this.#realm) return 'unknown-user';
    return this.#credential;
  }
}
