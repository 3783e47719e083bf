// The werift-dtls internals the DTLS server relies on, loaded and checked in one place. The handshake engine
// and its patches reach past werift's typed surface: deep module paths, module exports they replace, a
// prototype method they override, fields they read and write on werift's objects. Any release may change
// those, so the installed werift-dtls must be the version the patches were written against and every
// internal must have the shape they expect. DtlsServer.listen() checks this before it binds a socket, so a
// mismatch fails the listener's start with ERR_DTLS_DEPENDENCY instead of a handshake at run time.
// This is the only file that loads werift-dtls at run time; the others import its types only.

import { createRequire } from 'node:module';
import type { CipherContext, DtlsServer } from 'werift-dtls/lib/dtls/src/index.js';
import type { FragmentedHandshake } from 'werift-dtls/lib/dtls/src/record/message/fragment.js';
import { DtlsError, DtlsErrorCode } from './errors.ts';

/** The werift-dtls release src/server/dtls is written against; package.json pins the same. */
export const WERIFT_DTLS_VERSION = '0.5.8';

/** The werift-dtls modules used, under the names errors give them. */
export const WERIFT_MODULES = {
  index: 'werift-dtls/lib/dtls/src/index.js',
  fragment: 'werift-dtls/lib/dtls/src/record/message/fragment.js',
  namedCurve: 'werift-dtls/lib/dtls/src/cipher/namedCurve.js',
  prf: 'werift-dtls/lib/dtls/src/cipher/prf.js',
  aead: 'werift-dtls/lib/dtls/src/cipher/suites/aead.js',
  flight4: 'werift-dtls/lib/dtls/src/flight/server/flight4.js',
  certificate: 'werift-dtls/lib/dtls/src/handshake/message/certificate.js',
} as const;
export type WeriftModuleName = keyof typeof WERIFT_MODULES;

/** What is installed: the version its package.json states, and each module object (undefined: not loadable). */
export interface InstalledWerift {
  readonly version: string | undefined;
  readonly modules: Readonly<Record<WeriftModuleName, unknown>>;
}

export interface CurveKeyPair {
  curve: number;
  privateKey: Buffer;
  publicKey: Buffer;
}

/** cipher/namedCurve.js; werift's flight 2 reads generateKeyPair from this object at every call. */
export interface NamedCurveModule {
  generateKeyPair(curve: number): CurveKeyPair;
}

/** cipher/prf.js; werift's flight 6 reads prfPreMasterSecret from this object at every call. */
export interface PrfModule {
  prfPreMasterSecret(publicKey: Buffer, privateKey: Buffer, curve: number): Buffer;
}

export interface Flight4Class {
  readonly prototype: {
    sendCertificate(): Buffer;
    createPacket(messages: unknown[]): { serialize(): Buffer }[];
  };
}

export type CertificateClass = new (certificateList: Buffer[]) => unknown;

/** The checked internals. */
export interface WeriftInternals {
  readonly DtlsServer: typeof DtlsServer;
  readonly CipherContext: typeof CipherContext;
  readonly FragmentedHandshake: typeof FragmentedHandshake;
  readonly namedCurve: NamedCurveModule;
  readonly prf: PrfModule;
  readonly Flight4: Flight4Class;
  readonly Certificate: CertificateClass;
}

const require = createRequire(import.meta.url);

/** Reads the installed werift-dtls: never throws, a part that cannot be read is undefined. */
export function readInstalledWerift(): InstalledWerift {
  const load = (path: string): unknown => {
    try {
      return require(path) as unknown;
    } catch {
      return undefined;
    }
  };
  const pkg = load('werift-dtls/package.json') as { version?: unknown } | undefined;
  const modules = Object.fromEntries(Object.entries(WERIFT_MODULES).map(([name, path]) => [name, load(path)]));
  return {
    version: typeof pkg?.version === 'string' ? pkg.version : undefined,
    modules: modules as Record<WeriftModuleName, unknown>,
  };
}

/**
 * Checks that `installed` (by default the werift-dtls in node_modules) is the pinned version and has every
 * internal the DTLS server uses, in the expected shape; returns them typed. Throws a DtlsError with code
 * ERR_DTLS_DEPENDENCY naming the pinned version, the found one and each missing internal.
 */
export function checkWeriftInternals(installed: InstalledWerift = readInstalledWerift()): WeriftInternals {
  const problems: string[] = [];
  const { modules } = installed;
  for (const [name, path] of Object.entries(WERIFT_MODULES)) {
    if (modules[name as WeriftModuleName] === undefined) problems.push(`${name} (${path}) cannot be loaded`);
  }
  const fn = (owner: unknown, label: string, key: string, replaced = false): void => {
    if (owner === undefined || owner === null) return;
    const descriptor = Object.getOwnPropertyDescriptor(owner, key);
    const value = (owner as Record<string, unknown>)[key];
    if (typeof value !== 'function') problems.push(`${label}.${key} is ${value === undefined ? 'missing' : 'not a function'}`);
    else if (replaced && descriptor?.writable !== true) problems.push(`${label}.${key} cannot be replaced`);
  };
  const { index, fragment, namedCurve, prf, aead, flight4, certificate } = modules as Record<string, Record<string, unknown> | undefined>;
  fn(index, 'index', 'DtlsServer');
  fn(index, 'index', 'CipherContext');
  fn(fragment, 'fragment', 'FragmentedHandshake');
  fn(fragment?.FragmentedHandshake, 'FragmentedHandshake', 'assemble');
  fn((fragment?.FragmentedHandshake as { prototype?: unknown } | undefined)?.prototype, 'FragmentedHandshake.prototype', 'serialize');
  // Replaced by native-key-exchange.ts.
  fn(namedCurve, 'namedCurve', 'generateKeyPair', true);
  fn(prf, 'prf', 'prfPreMasterSecret', true);
  // Flight4.prototype.sendCertificate is replaced by certificate-chain.ts.
  fn(flight4, 'flight4', 'Flight4');
  const flight4Prototype = (flight4?.Flight4 as { prototype?: unknown } | undefined)?.prototype;
  fn(flight4Prototype, 'Flight4.prototype', 'sendCertificate', true);
  fn(flight4Prototype, 'Flight4.prototype', 'createPacket');
  fn(certificate, 'certificate', 'Certificate');
  fn(aead, 'aead', 'default');
  if (problems.length === 0) problems.push(...instanceProblems(modules));
  if (installed.version !== WERIFT_DTLS_VERSION || problems.length > 0) {
    const found = installed.version === undefined ? 'no readable werift-dtls/package.json' : installed.version;
    throw new DtlsError(DtlsErrorCode.dependency,
      `werift-dtls ${WERIFT_DTLS_VERSION} is required (src/server/dtls patches its internals), found ${found}`
      + (problems.length > 0 ? `: ${problems.join('; ')}` : ''));
  }
  const m = modules as Record<string, Record<string, unknown>>;
  return {
    DtlsServer: m.index.DtlsServer as typeof DtlsServer,
    CipherContext: m.index.CipherContext as typeof CipherContext,
    FragmentedHandshake: m.fragment.FragmentedHandshake as typeof FragmentedHandshake,
    namedCurve: m.namedCurve as unknown as NamedCurveModule,
    prf: m.prf as unknown as PrfModule,
    Flight4: m.flight4.Flight4 as Flight4Class,
    Certificate: m.certificate.Certificate as CertificateClass,
  };
}

/** The fields handshake-engine.ts reads and writes on werift's objects, looked up on fresh instances. */
function instanceProblems(modules: InstalledWerift['modules']): string[] {
  const problems: string[] = [];
  const expect = (owner: unknown, label: string, keys: readonly string[]): void => {
    for (const key of keys) {
      if (typeof owner !== 'object' || owner === null || !(key in owner)) problems.push(`${label}.${key} is missing`);
    }
  };
  try {
    const { DtlsServer: Server } = modules.index as { DtlsServer: new (options: object) => Record<string, unknown> };
    const placeholder = (): void => undefined;
    const transport = { type: 'probe', address: {}, closed: false, onData: placeholder, send: placeholder, close: placeholder };
    const server = new Server({ transport });
    expect(server, '(new DtlsServer)', ['dtls', 'cipher', 'onConnect', 'onError', 'onClose']);
    expect(server.dtls, '(new DtlsServer).dtls', ['flight', 'cookie', 'handshakeCache']);
    expect(server.cipher, '(new DtlsServer).cipher', ['localKeyPair', 'cipherSuite', 'cipher', 'masterSecret', 'localCert']);
    for (const event of ['onConnect', 'onError', 'onClose']) {
      expect(server[event], `(new DtlsServer).${event}`, ['subscribe', 'allUnsubscribe']);
    }
    // The engine feeds datagrams through the transport's onData, which werift sets to its own handler.
    if (transport.onData === placeholder) problems.push('DtlsServer does not take over transport.onData');
    const Aead = (modules.aead as { default: new () => object }).default;
    expect(new Aead(), '(new AEADCipher)', ['blockAlgorithm', 'clientWriteKey', 'serverWriteKey', 'clientNonce', 'serverNonce']);
  } catch (err) {
    problems.push(`constructing its objects throws: ${err instanceof Error ? err.message : String(err)}`);
  }
  return problems;
}

let checked: WeriftInternals | undefined;

/** The installed werift-dtls's internals, checked on the first call (checkWeriftInternals). */
export function weriftInternals(): WeriftInternals {
  checked ??= checkWeriftInternals();
  return checked;
}
