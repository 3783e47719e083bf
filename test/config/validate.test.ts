import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfig, validateConfig } from '../../src/config/validate.ts';
import {
  DEFAULT_DRAIN_TIMEOUT, DEFAULT_MAX_CHANNELS_PER_ALLOCATION, DEFAULT_MAX_PERMISSIONS_PER_ALLOCATION,
  DEFAULT_UNAUTHENTICATED_RATE,
} from '../../src/config/defaults.ts';
import { baseConfig, CERT_B64, CERT_PEM, configError, KEY_B64, KEY_PEM, OTHER_KEY_PEM } from './helpers.ts';

type Raw = Record<string, unknown>;

/** baseConfig() with its first listener / cluster / admin / auth changed. */
function withListener(patch: Raw): Raw {
  const c = baseConfig();
  c.listeners = [{ ...(c.listeners as Raw[])[0], ...patch }];
  return c;
}
function withCluster(patch: Raw): Raw {
  const c = baseConfig();
  c.clusters = [{ ...(c.clusters as Raw[])[0], ...patch }];
  return c;
}
function withAdmin(admin: Raw): Raw {
  return { ...baseConfig(), admin };
}
function withAuth(auth: Raw): Raw {
  return { ...baseConfig(), auth };
}

describe('validateConfig: defaults', () => {
  it('fills every default of a minimal config', () => {
    const c = validateConfig({ version: 'v1', auth: { credentials: { username: 'u', password: 'p' } } });
    assert.deepEqual(c, {
      version: 'v1',
      admin: {
        name: 'default-stunnerd', loglevel: 'all:INFO', metrics_endpoint: '', healthcheck_endpoint: 'http://:8086',
        user_quota: 0,
        limits: {
          max_allocations: 0, max_permissions_per_allocation: DEFAULT_MAX_PERMISSIONS_PER_ALLOCATION,
          max_channels_per_allocation: DEFAULT_MAX_CHANNELS_PER_ALLOCATION,
          unauthenticated_rate: DEFAULT_UNAUTHENTICATED_RATE, drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        },
      },
      auth: { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'u', password: 'p' } },
      listeners: [],
      clusters: [],
    });
  });

  it('fills listener and cluster defaults', () => {
    const c = validateConfig({ ...baseConfig(), listeners: [{ name: 'l' }], clusters: [{ name: 'c' }] });
    assert.deepEqual(c.listeners[0], {
      name: 'l', protocol: 'TURN-UDP', address: '0.0.0.0', port: 3478, public_address: '', public_port: 0,
      min_relay_port: 0, max_relay_port: 0, cert: '', key: '', routes: [],
    });
    assert.deepEqual(c.clusters[0], { name: 'c', type: 'STATIC', protocol: 'UDP', endpoints: [] });
  });

  it('returns a deeply frozen config', () => {
    const c = validateConfig(baseConfig());
    for (const o of [c, c.admin, c.admin.limits, c.auth, c.auth.credentials, c.listeners, c.listeners[0],
      c.listeners[0].routes, c.clusters, c.clusters[0].endpoints]) {
      assert.ok(Object.isFrozen(o));
    }
  });

  it('accepts a config like the docs/config.md example without a warning', () => {
    const { config, warnings } = checkConfig({
      version: 'v1',
      admin: { name: 'default-stunnerd', loglevel: 'all:INFO', metrics_endpoint: '', healthcheck_endpoint: 'http://:8086', user_quota: 0 },
      auth: { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'user1', password: 'pass1' } },
      listeners: [{
        name: 'udp-listener', protocol: 'TURN-UDP', address: '0.0.0.0', port: 3478, public_address: '1.2.3.4',
        public_port: 3478, min_relay_port: 49152, max_relay_port: 65535, routes: ['media-plane'],
      }, {
        name: 'tls-listener', protocol: 'TURN-TLS', port: 443, cert: CERT_B64, key: KEY_B64, routes: ['media-plane'],
      }],
      clusters: [{ name: 'media-plane', type: 'STATIC', protocol: 'UDP', endpoints: ['10.0.0.0/8', '192.168.1.10:<10000-20000>'] }],
    });
    assert.deepEqual(warnings, []);
    assert.equal(config.listeners[0].min_relay_port, 49152);
    assert.equal(config.listeners[1].cert, CERT_PEM);
    assert.equal(config.listeners[1].key, KEY_PEM);
    assert.deepEqual(config.clusters[0].endpoints, ['10.0.0.0/8', '192.168.1.10:<10000-20000>']);
  });
});

describe('validateConfig: normalisation', () => {
  const listenerCases: Array<[string, Raw, Raw]> = [
    ['protocol udp', { protocol: 'udp' }, { protocol: 'TURN-UDP' }],
    ['protocol turn-tcp', { protocol: 'turn-tcp' }, { protocol: 'TURN-TCP' }],
    ['protocol TCP (upstream bare transport)', { protocol: 'TCP' }, { protocol: 'TURN-TCP' }],
    ['protocol DTLS', { protocol: 'DTLS', cert: CERT_B64, key: KEY_B64 }, { protocol: 'TURN-DTLS', cert: CERT_PEM }],
    ['raw PEM cert/key', { protocol: 'TLS', cert: CERT_PEM, key: KEY_PEM }, { protocol: 'TURN-TLS', cert: CERT_PEM, key: KEY_PEM }],
    ['port as a string (from ${PORT})', { port: '3479' }, { port: 3479 }],
    ['port 0 means the default', { port: 0 }, { port: 3478 }],
    ['min_relay_port alone', { min_relay_port: 50000 }, { min_relay_port: 50000, max_relay_port: 65535 }],
    ['max_relay_port alone', { max_relay_port: 50000 }, { min_relay_port: 1, max_relay_port: 50000 }],
    ['empty address means 0.0.0.0', { address: '' }, { address: '0.0.0.0' }],
    ['IPv6 address', { address: '::1' }, { address: '::1' }],
    ['public host name', { public_address: 'turn.example.com', public_port: 443 }, { public_address: 'turn.example.com', public_port: 443 }],
  ];
  for (const [name, patch, want] of listenerCases) {
    it(`listener: ${name}`, () => {
      const l = validateConfig(withListener(patch)).listeners[0];
      for (const [k, v] of Object.entries(want)) assert.deepEqual(l[k as keyof typeof l], v, k);
    });
  }

  const endpointCases: Array<[string, string, string]> = [
    ['IPv4', '192.168.1.10', '192.168.1.10'],
    ['CIDR host bits cleared', '10.1.2.3/8', '10.0.0.0/8'],
    ['IPv6 lower-cased and compressed', 'FD00:0:0:0::1', 'fd00::1'],
    ['IPv6 CIDR', 'fd00::/8', 'fd00::/8'],
    ['port range', '192.168.1.10:<10000-20000>', '192.168.1.10:<10000-20000>'],
    ['CIDR with port range', '10.0.0.0/8:<1-1024>', '10.0.0.0/8:<1-1024>'],
    ['bracketed IPv6 with ports', '[FD00::1]:<5000-5000>', 'fd00::1:<5000-5000>'],
    ['catch-all', '0.0.0.0/0', '0.0.0.0/0'],
  ];
  for (const [name, ep, want] of endpointCases) {
    it(`STATIC endpoint: ${name}`, () => {
      assert.deepEqual(validateConfig(withCluster({ endpoints: [ep] })).clusters[0].endpoints, [want]);
    });
  }

  it('STRICT_DNS endpoints are lower-cased host names', () => {
    const c = validateConfig(withCluster({ type: 'strict_dns', protocol: 'tcp', endpoints: ['Media.Default.svc.cluster.local'] }));
    assert.deepEqual(c.clusters[0], { name: 'media', type: 'STRICT_DNS', protocol: 'TCP', endpoints: ['media.default.svc.cluster.local'] });
  });

  const authCases: Array<[string, string, string]> = [
    ['plaintext', 'plaintext', 'static'], ['STATIC', 'STATIC', 'static'],
    ['longterm', 'longterm', 'ephemeral'], ['timewindowed', 'timewindowed', 'ephemeral'], ['ephemeral', 'ephemeral', 'ephemeral'],
  ];
  for (const [name, type, want] of authCases) {
    it(`auth type ${name} -> ${want}`, () => {
      const creds = want === 'static' ? { username: 'u', password: 'p' } : { secret: 's' };
      const a = validateConfig(withAuth({ type, credentials: { ...creds, unrelated: 'x' } })).auth;
      assert.equal(a.type, want);
      assert.deepEqual(a.credentials, creds);
    });
  }

  it('healthcheck_endpoint: absent or null = default, "" = off', () => {
    assert.equal(validateConfig(withAdmin({})).admin.healthcheck_endpoint, 'http://:8086');
    assert.equal(validateConfig(withAdmin({ healthcheck_endpoint: null })).admin.healthcheck_endpoint, 'http://:8086');
    assert.equal(validateConfig(withAdmin({ healthcheck_endpoint: '' })).admin.healthcheck_endpoint, '');
  });

  it('limits: each may be set, 0 included', () => {
    const limits = { max_allocations: 1000, max_permissions_per_allocation: 0, max_channels_per_allocation: 8,
      unauthenticated_rate: 5, drain_timeout: 30 };
    assert.deepEqual(validateConfig(withAdmin({ limits })).admin.limits, limits);
  });

  it('a negative user_quota means no quota, with a warning (as upstream clamps it)', () => {
    const { config, warnings } = checkConfig(withAdmin({ user_quota: -5 }));
    assert.equal(config.admin.user_quota, 0);
    assert.deepEqual(warnings, [{ path: 'admin.user_quota', message: 'negative quota -5 means no quota' }]);
  });
});

describe('validateConfig: every rule names its field', () => {
  const cases: Array<[string, unknown, string]> = [
    ['not a map', [], 'a stunnerd config must be a map, got an array'],
    ['version missing', { ...baseConfig(), version: undefined }, 'version: required, must be "v1" (or "v1alpha1")'],
    ['version unknown', { ...baseConfig(), version: 'v2' }, 'version: must be "v1" or "v1alpha1", got "v2"'],
    ['admin not a map', withAdmin('x' as unknown as Raw), 'admin: must be a map, got "x"'],
    ['listeners not a list', { ...baseConfig(), listeners: {} }, 'listeners: must be a list, got a map'],
    ['listener not a map', { ...baseConfig(), listeners: [3] }, 'listeners[0]: must be a map, got 3'],
    ['port out of range', { ...baseConfig(), listeners: [{ name: 'a' }, { name: 'b', port: 70000 }] },
      'listeners[1].port: must be 1..65535, got 70000'],
    ['port not an integer', withListener({ port: 'abc' }), 'listeners[0].port: must be an integer, got "abc"'],
    ['port fractional', withListener({ port: 3478.5 }), 'listeners[0].port: must be an integer, got 3478.5'],
    ['public_port out of range', withListener({ public_port: 65536 }), 'listeners[0].public_port: must be 1..65535, got 65536'],
    ['listener name missing', withListener({ name: undefined }), 'listeners[0].name: required'],
    ['listener name not a string', withListener({ name: 7 }), 'listeners[0].name: must be a string, got 7'],
    ['duplicate listener', { ...baseConfig(), listeners: [{ name: 'a' }, { name: 'a', port: 3479 }] },
      'listeners[1].name: duplicate listener name "a" (also listeners[0])'],
    ['protocol unknown', withListener({ protocol: 'SCTP' }),
      'listeners[0].protocol: must be one of TURN-UDP, TURN-TCP, TURN-TLS, TURN-DTLS, got "SCTP"'],
    ['address not an IP', withListener({ address: 'example.com' }), 'listeners[0].address: must be an IP address, got "example.com"'],
    ['public_address garbage', withListener({ public_address: 'a b' }),
      'listeners[0].public_address: must be an IP address or host name, got "a b"'],
    ['relay range inverted', withListener({ min_relay_port: 50000, max_relay_port: 40000 }),
      'listeners[0].min_relay_port: must be <= max_relay_port (40000), got 50000'],
    ['relay port out of range', withListener({ max_relay_port: 65536 }), 'listeners[0].max_relay_port: must be 1..65535, got 65536'],
    ['routes not strings', withListener({ routes: [5] }), 'listeners[0].routes[0]: must be a string, got 5'],
    ['TLS cert base64 of something else', withListener({ protocol: 'TURN-TLS', cert: Buffer.from('hello').toString('base64'), key: KEY_B64 }),
      'listeners[0].cert: base64 decodes to something other than a PEM certificate'],
    ['TLS cert not base64', withListener({ protocol: 'TURN-TLS', cert: 'not base64!', key: KEY_B64 }),
      'listeners[0].cert: must be a base64-encoded PEM certificate or PEM text'],
    ['TLS key of another cert', withListener({ protocol: 'TURN-DTLS', cert: CERT_B64, key: OTHER_KEY_PEM }),
      'listeners[0].key: does not match the certificate'],
    ['auth type unknown', withAuth({ type: 'oauth', credentials: { username: 'u', password: 'p' } }),
      'auth.type: must be static, ephemeral or none (or plaintext, longterm, timewindowed), got "oauth"'],
    ['static without password', withAuth({ type: 'static', credentials: { username: 'u' } }),
      'auth.credentials.password: required for static auth'],
    ['ephemeral without secret', withAuth({ type: 'ephemeral', credentials: { username: 'u', password: 'p' } }),
      'auth.credentials.secret: required for ephemeral auth'],
    ['password a YAML number', withAuth({ credentials: { username: 'u', password: 123 } }),
      'auth.credentials.password: must be a string (quote it in YAML), got a number'],
    ['cluster type unknown', withCluster({ type: 'EDS' }), 'clusters[0].type: must be one of STATIC, STRICT_DNS, got "EDS"'],
    ['cluster protocol unknown', withCluster({ protocol: 'SCTP' }), 'clusters[0].protocol: must be one of UDP, TCP, got "SCTP"'],
    ['cluster name missing', withCluster({ name: '' }), 'clusters[0].name: required'],
    ['duplicate cluster', { ...baseConfig(), clusters: [{ name: 'media' }, { name: 'media' }] },
      'clusters[1].name: duplicate cluster name "media" (also clusters[0])'],
    ['endpoint not an IP', withCluster({ endpoints: ['10.0.0.0/8', '10.0.0.300'] }),
      'clusters[0].endpoints[1]: must be an IP address or CIDR prefix, optionally with :<min-max> ports, got "10.0.0.300"'],
    ['endpoint port range inverted', withCluster({ endpoints: ['10.0.0.1:<20000-10000>'] }),
      'clusters[0].endpoints[0]: port range must be <min-max> with 1 <= min <= max <= 65535, got "10.0.0.1:<20000-10000>"'],
    ['endpoint port range beyond 65535', withCluster({ endpoints: ['10.0.0.1:<1-70000>'] }),
      'clusters[0].endpoints[0]: port range must be <min-max> with 1 <= min <= max <= 65535, got "10.0.0.1:<1-70000>"'],
    ['endpoint IP:port', withCluster({ endpoints: ['10.0.0.1:5000'] }),
      'clusters[0].endpoints[0]: a peer port is written as IP:<min-max>, got "10.0.0.1:5000"'],
    ['endpoint prefix too long', withCluster({ endpoints: ['10.0.0.0/33'] }),
      'clusters[0].endpoints[0]: prefix length must be 0..32, got "10.0.0.0/33"'],
    ['IPv6 prefix too long', withCluster({ endpoints: ['fd00::/129'] }),
      'clusters[0].endpoints[0]: prefix length must be 0..128, got "fd00::/129"'],
    ['STRICT_DNS endpoint not a name', withCluster({ type: 'STRICT_DNS', endpoints: ['bad host!'] }),
      'clusters[0].endpoints[0]: must be a host name for a STRICT_DNS cluster, got "bad host!"'],
    ['metrics endpoint scheme', withAdmin({ metrics_endpoint: 'https://:8080' }),
      'admin.metrics_endpoint: must be http://[host][:port][/path], got "https://:8080"'],
    ['metrics endpoint port', withAdmin({ metrics_endpoint: 'http://:99999/metrics' }),
      'admin.metrics_endpoint: port must be 1..65535, got "99999"'],
    ['health endpoint host', withAdmin({ healthcheck_endpoint: 'http://[zz]:8086' }),
      'admin.healthcheck_endpoint: host must be an IP address or host name, got "[zz]"'],
    ['health endpoint not a string', withAdmin({ healthcheck_endpoint: 8086 }),
      'admin.healthcheck_endpoint: must be a string, got 8086'],
    ['log level', withAdmin({ loglevel: 'all:LOUD' }),
      'admin.loglevel: bad log level "all:LOUD": want scope:LEVEL with LEVEL one of DISABLE|ERROR|WARN|INFO|DEBUG|TRACE'],
    ['negative limit', withAdmin({ limits: { max_allocations: -1 } }), 'admin.limits.max_allocations: must be >= 0, got -1'],
    ['quota not an integer', withAdmin({ user_quota: 'many' }), 'admin.user_quota: must be an integer, got "many"'],
  ];
  for (const [name, raw, message] of cases) {
    it(name, () => {
      const err = configError(() => validateConfig(raw));
      assert.equal(err.code, 'ERR_CONFIG_INVALID');
      assert.equal(err.message, message);
      assert.equal(err.problems.length, 1);
      assert.equal(err.path, message.includes(': ') && !message.startsWith('a stunnerd') ? message.slice(0, message.indexOf(': ')) : '');
    });
  }

  for (const protocol of ['TURN-TLS', 'TURN-DTLS']) {
    it(`${protocol} without cert and key reports both`, () => {
      const err = configError(() => validateConfig(withListener({ protocol })));
      assert.deepEqual(err.problems, [
        { path: 'listeners[0].cert', message: `required for ${protocol} listeners` },
        { path: 'listeners[0].key', message: `required for ${protocol} listeners` },
      ]);
    });
  }

  it('reports every problem at once, one per line, in document order', () => {
    const err = configError(() => validateConfig({
      version: 'v1',
      admin: { loglevel: 'all:INFO', user_quota: 'x' },
      auth: { type: 'static', credentials: { username: 'u' } },
      listeners: [{ name: 'a', port: 70000 }],
      clusters: [{ name: 'c', endpoints: ['nope'] }],
    }));
    assert.equal(err.path, 'admin.user_quota');
    assert.deepEqual(err.message.split('\n'), [
      'admin.user_quota: must be an integer, got "x"',
      'auth.credentials.password: required for static auth',
      'listeners[0].port: must be 1..65535, got 70000',
      'clusters[0].endpoints[0]: must be an IP address or CIDR prefix, optionally with :<min-max> ports, got "nope"',
    ]);
  });
});

describe('validateConfig: warnings', () => {
  const cases: Array<[string, Raw, Array<{ path: string; message: string }>]> = [
    ['unknown fields anywhere', { ...withListener({ color: 'red' }), extra: 1, admin: { limits: { max_bananas: 2 } } }, [
      { path: 'admin.limits.max_bananas', message: 'unknown field, ignored' },
      { path: 'listeners[0].color', message: 'unknown field, ignored' },
      { path: 'extra', message: 'unknown field, ignored' },
    ]],
    ['upstream-only admin settings: one warning for all of them', withAdmin({ offload_engine: 'XDP',
      offload_interfaces: ['eth0'], license_config: { key: 'k', hmac: 'h' } }), [
      { path: 'admin.offload_engine', message: 'not available in this implementation, ignored: offload_engine XDP ' +
        '(running without offload); license_config (open-source features only)' },
    ]],
    ['offload_engine None is the default: no warning', withAdmin({ offload_engine: 'None', offload_interfaces: [] }), []],
    ['auth type none: STUN only', { ...baseConfig(), auth: { type: 'none' } }, [
      { path: 'auth.type', message: 'none: no TURN client can authenticate, so nothing is relayed; only STUN ' +
        'Binding requests are answered (upstream\'s STUN-only mode)' },
    ]],
    ['route to a missing cluster', withListener({ routes: ['media', 'gone'] }), [
      { path: 'listeners[0].routes[1]', message: 'no cluster named "gone": the route admits no peer' },
    ]],
    ['duplicate route', withListener({ routes: ['media', 'media'] }), [
      { path: 'listeners[0].routes[1]', message: 'duplicate route "media"' },
    ]],
    ['cert on a UDP listener', withListener({ cert: CERT_B64 }), [
      { path: 'listeners[0].cert', message: 'ignored for TURN-UDP listeners' },
    ]],
    ['cluster without endpoints', withCluster({ endpoints: [] }), [
      { path: 'clusters[0].endpoints', message: 'no endpoints: this cluster admits no peer' },
    ]],
  ];
  for (const [name, raw, want] of cases) {
    it(name, () => {
      const got = [...checkConfig(raw).warnings].sort((a, b) => a.path.localeCompare(b.path));
      assert.deepEqual(got, [...want].sort((a, b) => a.path.localeCompare(b.path)));
    });
  }

  it('a good config has no warnings', () => {
    assert.deepEqual(checkConfig(baseConfig()).warnings, []);
  });
});
