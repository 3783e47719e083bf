// The DTLS server patches werift-dtls internals, so the installed version and the internals' shapes are
// checked before the first DTLS listener starts. These tests pin the check: it passes on the installed
// package, names the pinned version, the found one and what is missing when fed another, and package.json
// depends on exactly the version the patches were written against.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate } from '../../src/config/self-signed.ts';
import { DtlsError, DtlsServer } from '../../src/server/dtls/dtls-server.ts';
import {
  WERIFT_DTLS_VERSION, checkWeriftInternals, readInstalledWerift, weriftInternals,
} from '../../src/server/dtls/werift-internals.ts';
import type { InstalledWerift } from '../../src/server/dtls/werift-internals.ts';
import { freeUdpPort, run } from '../helpers/process.ts';

const installed = readInstalledWerift();

function withModule(name: keyof InstalledWerift['modules'], module: unknown, version = installed.version): InstalledWerift {
  return { version, modules: { ...installed.modules, [name]: module } };
}

function rejects(fake: InstalledWerift, message: string): void {
  assert.throws(() => checkWeriftInternals(fake), (err: unknown) => {
    assert.ok(err instanceof DtlsError);
    assert.equal(err.code, 'ERR_DTLS_DEPENDENCY');
    assert.equal(err.message, message);
    return true;
  });
}

const REQUIRED = `werift-dtls ${WERIFT_DTLS_VERSION} is required (src/server/dtls patches its internals)`;

test('the installed werift-dtls passes the check', () => {
  assert.equal(installed.version, WERIFT_DTLS_VERSION);
  const werift = checkWeriftInternals();
  assert.equal(typeof werift.DtlsServer, 'function');
  assert.equal(typeof werift.namedCurve.generateKeyPair, 'function');
  assert.equal(weriftInternals().Flight4, werift.Flight4);
});

test('package.json depends on exactly the werift-dtls version the patches are written against', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  assert.equal(pkg.dependencies['werift-dtls'], WERIFT_DTLS_VERSION,
    'bumping werift-dtls means re-reading src/server/dtls/README.md\'s gaps and every patch, then WERIFT_DTLS_VERSION');
});

test('another version fails, naming the required and the found one', () => {
  rejects({ ...installed, version: '0.6.0' }, `${REQUIRED}, found 0.6.0`);
  rejects({ ...installed, version: undefined }, `${REQUIRED}, found no readable werift-dtls/package.json`);
});

test('a missing or reshaped internal fails, naming it', () => {
  rejects(withModule('namedCurve', {}, '0.6.0'), `${REQUIRED}, found 0.6.0: namedCurve.generateKeyPair is missing`);
  rejects(withModule('prf', { prfPreMasterSecret: 1 }), `${REQUIRED}, found ${WERIFT_DTLS_VERSION}: prf.prfPreMasterSecret is not a function`);
  rejects(withModule('fragment', undefined),
    `${REQUIRED}, found ${WERIFT_DTLS_VERSION}: fragment (werift-dtls/lib/dtls/src/record/message/fragment.js) cannot be loaded`);
  // An export we replace must be assignable (a getter-only re-export would silently keep werift's function).
  const getterOnly = Object.defineProperty({}, 'generateKeyPair', { get: () => () => undefined, enumerable: true });
  rejects(withModule('namedCurve', getterOnly), `${REQUIRED}, found ${WERIFT_DTLS_VERSION}: namedCurve.generateKeyPair cannot be replaced`);
  class Flight4 {}
  rejects(withModule('flight4', { Flight4 }),
    `${REQUIRED}, found ${WERIFT_DTLS_VERSION}: Flight4.prototype.sendCertificate is missing; Flight4.prototype.createPacket is missing`);
});

test('a field missing on werift\'s objects fails, naming it', () => {
  const index = installed.modules.index as { DtlsServer: new (options: object) => { dtls: Record<string, unknown> } };
  class DtlsServerWithoutFlight extends index.DtlsServer {
    constructor(options: object) {
      super(options);
      delete this.dtls.flight;
    }
  }
  rejects(withModule('index', { ...index, DtlsServer: DtlsServerWithoutFlight }),
    `${REQUIRED}, found ${WERIFT_DTLS_VERSION}: (new DtlsServer).dtls.flight is missing`);
  class Throwing {
    constructor() {
      throw new Error('options.transport is required');
    }
  }
  rejects(withModule('index', { ...index, DtlsServer: Throwing }),
    `${REQUIRED}, found ${WERIFT_DTLS_VERSION}: constructing its objects throws: options.transport is required`);
});

test('with the installed werift-dtls, DtlsServer.listen() passes the check and goes on to the credentials', async () => {
  await assert.rejects(DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: 'x', key: 'y' }), { code: 'ERR_DTLS_CERTIFICATE' });
});

// Rewrites werift-dtls's package.json as it is loaded, so the daemon finds another version.
const FAKE_VERSION_HOOK = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
registerHooks({
  load(url, context, nextLoad) {
    const result = nextLoad(url, context);
    if (!url.endsWith('/node_modules/werift-dtls/package.json')) return result;
    return { ...result, source: JSON.stringify({ name: 'werift-dtls', version: '0.6.0' }) };
  },
});`)}`;

test('stunnerd with another werift-dtls version fails to start its TURN-DTLS listener, saying why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'werift-internals-'));
  const file = join(dir, 'stunnerd.json');
  const { cert, key } = selfSignedCertificate('127.0.0.1');
  writeFileSync(file, JSON.stringify({
    version: 'v1',
    admin: { name: 'werift-check', healthcheck_endpoint: '' },
    auth: { type: 'static', credentials: { username: 'user1', password: 'passwd1' } },
    listeners: [{
      name: 'dtls', protocol: 'TURN-DTLS', address: '127.0.0.1', port: await freeUdpPort(), routes: ['any'],
      cert: Buffer.from(cert).toString('base64'), key: Buffer.from(key).toString('base64'),
    }],
    clusters: [{ name: 'any', type: 'STATIC', endpoints: ['0.0.0.0/0'] }],
  }));
  const daemon = run(process.execPath, ['--import', FAKE_VERSION_HOOK, 'src/cmd/stunnerd.ts', '-c', file]);
  const [code] = await once(daemon.child, 'exit');
  assert.equal(code, 1, daemon.output());
  assert.match(daemon.output(), /listener dtls: /);
  assert.ok(daemon.output().includes(`${REQUIRED}, found 0.6.0`), daemon.output());
});
