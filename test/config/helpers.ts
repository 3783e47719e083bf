// Shared test material: a small valid config to vary, and a TLS certificate/key fixture.

import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** PEM text of a P-256 certificate for stunner.test / 127.0.0.1 and its key (test-only material). */
export const CERT_PEM = fixture('tls.crt');
export const KEY_PEM = fixture('tls.key');
/** A key that does not belong to CERT_PEM. */
export const OTHER_KEY_PEM = fixture('other.key');
export const CERT_B64 = Buffer.from(CERT_PEM).toString('base64');
export const KEY_B64 = Buffer.from(KEY_PEM).toString('base64');

type Raw = Record<string, unknown>;

/** A valid v1 config: one UDP listener routed to one STATIC cluster. */
export function baseConfig(): Raw {
  return {
    version: 'v1',
    auth: { type: 'static', credentials: { username: 'user1', password: 'pass1' } },
    listeners: [{ name: 'udp', protocol: 'TURN-UDP', port: 3478, routes: ['media'] }],
    clusters: [{ name: 'media', endpoints: ['10.0.0.0/8'] }],
  };
}

/** Runs `fn`, which must throw a ConfigError; returns it. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError, nothing was thrown');
}
