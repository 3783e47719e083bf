import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { defaultConfigFromUri, parseTurnUri } from '../../src/config/uri.ts';
import { selfSignedCertificate } from '../../src/config/self-signed.ts';
import { CERT_PEM, KEY_PEM } from './helpers.ts';

describe('parseTurnUri', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['turn://user1:passwd1@127.0.0.1:3478', { scheme: 'turn', protocol: 'TURN-UDP', host: '127.0.0.1', port: 3478, username: 'user1', password: 'passwd1' }],
    ['turn://u:p@10.0.0.1?transport=tcp', { protocol: 'TURN-TCP', port: 3478 }],
    ['TURN://u:p@10.0.0.1:5000?transport=UDP', { scheme: 'turn', protocol: 'TURN-UDP', port: 5000 }],
    ['turns://u:p@10.0.0.1', { scheme: 'turns', protocol: 'TURN-TLS', port: 443 }],
    ['turns://u:p@10.0.0.1:5349?transport=udp', { protocol: 'TURN-DTLS', port: 5349 }],
    ['turns://u:p@10.0.0.1?transport=tcp', { protocol: 'TURN-TLS' }],
    ['turn://u:p@10.0.0.1?transport=tls', { protocol: 'TURN-TLS', port: 443 }],
    ['turn://u:p@10.0.0.1?transport=dtls', { protocol: 'TURN-DTLS', port: 443 }],
    ['turn://us%40er:pa%3As%2Fs@[::1]:3478', { host: '::1', username: 'us@er', password: 'pa:s/s' }],
    ['turn:turn.example.com:3479?transport=udp', { host: 'turn.example.com', port: 3479, username: '', password: '' }],
    ['turn://u:p@localhost/', { host: 'localhost' }],
  ];
  for (const [uri, want] of cases) {
    it(uri, () => {
      const got = parseTurnUri(uri) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, k);
    });
  }

  const bad: Array<[string, string]> = [
    ['http://u:p@1.2.3.4', 'invalid TURN URI "http://u:<redacted>@1.2.3.4": scheme must be turn: or turns:'],
    ['turn://u:secret@1.2.3.4?transport=sctp', 'invalid TURN URI "turn://u:<redacted>@1.2.3.4?transport=sctp": transport must be udp, tcp, tls or dtls, got "sctp"'],
    ['turn://u:secret@1.2.3.4:0', 'invalid TURN URI "turn://u:<redacted>@1.2.3.4:0": port must be 1..65535'],
    ['turn://u:secret@1.2.3.4:70000', 'invalid TURN URI "turn://u:<redacted>@1.2.3.4:70000": must be turn[s]://[user:pass@]host[:port][?transport=udp|tcp]'],
    ['turn://u:secret@1.2.3.4/x', 'invalid TURN URI "turn://u:<redacted>@1.2.3.4/x": unexpected path "/x"'],
    ['turn://u:%E0%A4%A@1.2.3.4', 'invalid TURN URI "turn://u:<redacted>@1.2.3.4": user or password is not valid percent-encoding'],
  ];
  for (const [uri, message] of bad) {
    it(`rejects ${uri}`, () => assert.throws(() => parseTurnUri(uri), { name: 'ConfigError', code: 'ERR_CONFIG_URI', message }));
  }
});

describe('defaultConfigFromUri (upstream NewDefaultConfig)', () => {
  it('turn://user1:passwd1@127.0.0.1:3478', () => {
    assert.deepEqual(structuredClone(defaultConfigFromUri('turn://user1:passwd1@127.0.0.1:3478')), {
      version: 'v1',
      admin: {
        name: 'default-stunnerd', loglevel: 'all:INFO', metrics_endpoint: '', healthcheck_endpoint: 'http://:8086', user_quota: 0,
        limits: defaultConfigFromUri('turn://a:b@127.0.0.1').admin.limits,
      },
      auth: { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'user1', password: 'passwd1' } },
      listeners: [{
        name: 'default-listener', protocol: 'TURN-UDP', address: '127.0.0.1', port: 3478, public_address: '', public_port: 0,
        min_relay_port: 0, max_relay_port: 0, cert: '', key: '', routes: ['allow-any'],
      }],
      clusters: [{ name: 'allow-any', type: 'STATIC', protocol: 'UDP', endpoints: ['0.0.0.0/0'] }],
    });
  });

  it('an IPv6 listener admits IPv6 peers too; localhost is 127.0.0.1', () => {
    assert.deepEqual(defaultConfigFromUri('turn://u:p@[::1]:3478?transport=tcp').clusters[0].endpoints, ['0.0.0.0/0', '::/0']);
    assert.equal(defaultConfigFromUri('turn://u:p@localhost').listeners[0].address, '127.0.0.1');
  });

  it('uses the given certificate for turns://', () => {
    const l = defaultConfigFromUri('turns://u:p@127.0.0.1:5349', { cert: CERT_PEM, key: KEY_PEM }).listeners[0];
    assert.deepEqual([l.protocol, l.port, l.cert, l.key], ['TURN-TLS', 5349, CERT_PEM, KEY_PEM]);
  });

  it('makes a self-signed certificate for turns:// without one', () => {
    const l = defaultConfigFromUri('turns://u:p@127.0.0.1?transport=udp').listeners[0];
    assert.equal(l.protocol, 'TURN-DTLS');
    const cert = new X509Certificate(l.cert);
    assert.equal(cert.subjectAltName, 'IP Address:127.0.0.1');
    assert.ok(cert.checkPrivateKey(createPrivateKey(l.key)));
  });

  const bad: Array<[string, string]> = [
    ['turn://127.0.0.1:3478', 'user and password must be set'],
    ['turn://u@127.0.0.1:3478', 'user and password must be set'],
    ['turn://u:p@turn.example.com', 'host must be an IP address, got "turn.example.com"'],
  ];
  for (const [uri, reason] of bad) {
    it(`rejects ${uri}`, () => assert.throws(() => defaultConfigFromUri(uri),
      (e: Error & { code?: string }) => e.code === 'ERR_CONFIG_URI' && e.message.endsWith(reason)));
  }
});

describe('selfSignedCertificate', () => {
  it('is a valid self-signed X.509 certificate naming the host, usable by node:tls', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const pair = selfSignedCertificate('turn.example.com', now);
    const cert = new X509Certificate(pair.cert);
    assert.equal(cert.subject, 'CN=turn.example.com');
    assert.equal(cert.issuer, cert.subject);
    assert.equal(cert.subjectAltName, 'DNS:turn.example.com');
    assert.ok(cert.verify(cert.publicKey), 'signature verifies with its own key');
    assert.ok(cert.checkPrivateKey(createPrivateKey(pair.key)));
    assert.equal(new Date(cert.validFrom).toISOString(), now.toISOString());
    assert.equal(new Date(cert.validTo).toISOString(), '2031-01-01T00:00:00.000Z');
    assert.doesNotThrow(() => createSecureContext({ cert: pair.cert, key: pair.key }));
  });

  it('writes GeneralizedTime from 2050 on (RFC 5280 4.1.2.5)', () => {
    const cert = new X509Certificate(selfSignedCertificate('::1', new Date('2049-12-01T00:00:00Z')).cert);
    assert.equal(new Date(cert.validTo).toISOString(), '2050-12-01T00:00:00.000Z');
    assert.equal(cert.subjectAltName, 'IP Address:0:0:0:0:0:0:0:1');
  });

  it('gives each certificate its own key and serial', () => {
    const a = new X509Certificate(selfSignedCertificate('a').cert);
    const b = new X509Certificate(selfSignedCertificate('a').cert);
    assert.notEqual(a.serialNumber, b.serialNumber);
    assert.notEqual(a.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'), b.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'));
  });
});
