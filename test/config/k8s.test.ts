import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderKubernetes } from '../../src/config/k8s/render.ts';
import { selectorMatches } from '../../src/config/k8s/attach.ts';
import { loadConfigText } from '../../src/config/load.ts';
import { parseDocuments } from '../../src/config/parse.ts';
import { CERT_B64, CERT_PEM, configError, KEY_B64, KEY_PEM } from './helpers.ts';

const render = (yaml: string) => renderKubernetes(parseDocuments(yaml));
const renderError = (yaml: string) => configError(() => render(yaml));

// From the upstream monitoring doc (upstream l7mp/stunner docs/MONITORING.md), verbatim.
const MONITORING_DOC_GATEWAYCONFIG = `apiVersion: stunner.l7mp.io/v1alpha1
kind: GatewayConfig
metadata:
  name: stunner-gatewayconfig
  namespace: stunner
spec:
  realm: stunner.l7mp.io
  authType: plaintext
  userName: "my-user"
  password: "my-password"
  metricsEndpoint: "http://:8080/metrics"
`;

const CLASS_AND_CONFIG = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: stunner-gatewayclass
spec:
  controllerName: "stunner.l7mp.io/gateway-operator"
  parametersRef:
    group: "stunner.l7mp.io"
    kind: GatewayConfig
    name: stunner-gatewayconfig
    namespace: stunner
---
apiVersion: stunner.l7mp.io/v1
kind: GatewayConfig
metadata:
  name: stunner-gatewayconfig
  namespace: stunner
spec:
  realm: stunner.l7mp.io
  authType: static
  userName: user-1
  password: pass-1
  logLevel: all:DEBUG,turn:INFO
  userQuota: 10
`;

const HIERARCHY = `${CLASS_AND_CONFIG}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: udp-gateway
  namespace: stunner
spec:
  gatewayClassName: stunner-gatewayclass
  addresses:
    - type: IPAddress
      value: 1.2.3.4
  listeners:
    - name: udp-listener
      port: 3478
      protocol: TURN-UDP
    - name: tls-listener
      port: 443
      protocol: TURN-TLS
      tls:
        mode: Terminate
        certificateRefs:
          - kind: Secret
            namespace: stunner
            name: tls-secret
---
apiVersion: v1
kind: Secret
metadata:
  name: tls-secret
  namespace: stunner
type: kubernetes.io/tls
data:
  tls.crt: ${CERT_B64}
  tls.key: ${KEY_B64}
---
apiVersion: stunner.l7mp.io/v1
kind: UDPRoute
metadata:
  name: media-plane
  namespace: stunner
spec:
  parentRefs:
    - name: udp-gateway
  rules:
    - backendRefs:
        - name: media-server
          namespace: media
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata:
  name: external
  namespace: stunner
spec:
  parentRefs:
    - name: udp-gateway
      sectionName: tls-listener
  rules:
    - backendRefs:
        - group: stunner.l7mp.io
          kind: StaticService
          name: static-svc
---
apiVersion: stunner.l7mp.io/v1
kind: StaticService
metadata:
  name: static-svc
  namespace: stunner
spec:
  prefixes:
    - "192.0.2.0/24"
    - "198.51.100.0/24"
`;

describe('renderKubernetes', () => {
  it('renders the upstream monitoring doc GatewayConfig verbatim', () => {
    const { config, source, warnings } = loadConfigText(MONITORING_DOC_GATEWAYCONFIG, { env: {} });
    assert.equal(source, 'kubernetes');
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.auth, { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'my-user', password: 'my-password' } });
    assert.equal(config.admin.metrics_endpoint, 'http://:8080/metrics');
    assert.equal(config.admin.healthcheck_endpoint, 'http://:8086');
    assert.equal(config.admin.name, 'stunner-daemon');
    assert.deepEqual([config.listeners, config.clusters], [[], []]);
  });

  it('renders a Gateway with TURN-UDP and TURN-TLS, a Service route and a sectionName StaticService route', () => {
    const { config, warnings } = render(HIERARCHY);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, {
      version: 'v1',
      admin: { name: 'stunner-daemon', loglevel: 'all:DEBUG,turn:INFO', metrics_endpoint: '', healthcheck_endpoint: 'http://:8086', user_quota: 10 },
      auth: { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'user-1', password: 'pass-1' } },
      listeners: [{
        name: 'stunner/udp-gateway/udp-listener', protocol: 'TURN-UDP', address: '$STUNNER_ADDR', port: 3478,
        public_address: '1.2.3.4', public_port: 3478, routes: ['stunner/media-plane'],
      }, {
        name: 'stunner/udp-gateway/tls-listener', protocol: 'TURN-TLS', address: '$STUNNER_ADDR', port: 443,
        public_address: '1.2.3.4', public_port: 443, cert: CERT_B64, key: KEY_B64, routes: ['stunner/media-plane', 'stunner/external'],
      }],
      clusters: [
        { name: 'stunner/media-plane', type: 'STRICT_DNS', protocol: 'UDP', endpoints: ['media-server.media.svc.cluster.local'] },
        { name: 'stunner/external', type: 'STATIC', protocol: 'UDP', endpoints: ['192.0.2.0/24', '198.51.100.0/24'] },
      ],
    });
  });

  it('loads the rendered config: the pod address from $STUNNER_ADDR, PEM from base64', () => {
    const { config, source } = loadConfigText(HIERARCHY, { env: { STUNNER_ADDR: '10.244.0.7' } });
    assert.equal(source, 'kubernetes');
    assert.deepEqual(config.listeners.map((l) => [l.name, l.address, l.protocol]), [
      ['stunner/udp-gateway/udp-listener', '10.244.0.7', 'TURN-UDP'],
      ['stunner/udp-gateway/tls-listener', '10.244.0.7', 'TURN-TLS'],
    ]);
    assert.equal(config.listeners[1].cert, CERT_PEM);
    assert.equal(config.listeners[1].key, KEY_PEM);
  });

  it('reads TLS material from stringData too', () => {
    const yaml = HIERARCHY.replace(`data:\n  tls.crt: ${CERT_B64}\n  tls.key: ${KEY_B64}`,
      `stringData:\n  tls.crt: |\n${indent(CERT_PEM)}\n  tls.key: |\n${indent(KEY_PEM)}`);
    const tls = render(yaml).config.listeners as Array<Record<string, unknown>>;
    assert.equal(Buffer.from(tls[1].cert as string, 'base64').toString(), CERT_PEM);
  });

  it('takes credentials from the authRef Secret over inline ones', () => {
    const yaml = CLASS_AND_CONFIG.replace('  userQuota: 10', `  authRef:\n    name: auth-secret\n---
apiVersion: v1
kind: Secret
metadata: {name: auth-secret, namespace: stunner}
stringData: {type: ephemeral, sharedSecret: "my-shared-secret"}`);
    assert.deepEqual(render(yaml).config.auth, { type: 'ephemeral', realm: 'stunner.l7mp.io', credentials: { secret: 'my-shared-secret' } });
  });

  it('renders ephemeral auth from sharedSecret (timewindowed)', () => {
    const yaml = CLASS_AND_CONFIG.replace('authType: static', 'authType: timewindowed').replace('  userQuota: 10', '  sharedSecret: s3cr3t');
    assert.deepEqual(render(yaml).config.auth, { type: 'ephemeral', realm: 'stunner.l7mp.io', credentials: { secret: 's3cr3t' } });
  });

  it('turns backend port/endPort into a STATIC port range (stunner.l7mp.io/v1 routes only)', () => {
    const route = (apiVersion: string) => `${HIERARCHY}
---
apiVersion: ${apiVersion}
kind: UDPRoute
metadata: {name: ranged, namespace: stunner}
spec:
  parentRefs: [{name: udp-gateway}]
  rules:
    - backendRefs:
        - {group: stunner.l7mp.io, kind: StaticService, name: static-svc, port: 5000, endPort: 6000}
`;
    const clusters = (yaml: string) => render(yaml).config.clusters as Array<Record<string, unknown>>;
    assert.deepEqual(clusters(route('stunner.l7mp.io/v1'))[2].endpoints, ['192.0.2.0/24:<5000-6000>', '198.51.100.0/24:<5000-6000>']);
    assert.deepEqual(clusters(route('gateway.networking.k8s.io/v1alpha2'))[2].endpoints, ['192.0.2.0/24', '198.51.100.0/24']);
  });

  it('attaches routes by allowedRoutes: Same by default, All, Selector over Namespace labels', () => {
    const yaml = (allowed: string) => `${CLASS_AND_CONFIG}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: stunner}
spec:
  gatewayClassName: stunner-gatewayclass
  listeners:
    - name: udp
      port: 3478
      protocol: TURN-UDP
      ${allowed}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {app: dev}}
---
apiVersion: stunner.l7mp.io/v1
kind: UDPRoute
metadata: {name: r, namespace: team-a}
spec:
  parentRefs: [{name: gw, namespace: stunner}]
  rules: [{backendRefs: [{name: svc}]}]
`;
    const routes = (y: string) => (render(y).config.listeners as Array<Record<string, unknown>>)[0].routes;
    assert.deepEqual(routes(yaml('')), []);
    assert.deepEqual(routes(yaml('allowedRoutes: {namespaces: {from: All}}')), ['team-a/r']);
    assert.deepEqual(routes(yaml('allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {app: dev}}}}')), ['team-a/r']);
    assert.deepEqual(routes(yaml('allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {app: prod}}}}')), []);
    const { warnings } = render(yaml(''));
    assert.deepEqual(warnings, [{ resource: 'UDPRoute team-a/r', path: 'spec.parentRefs',
      message: 'attaches to no rendered listener (listener admits routes from namespace stunner only), not rendered' }]);
  });

  it('applies v1alpha1 GatewayConfig minPort/maxPort to every listener', () => {
    const yaml = HIERARCHY.replace('apiVersion: stunner.l7mp.io/v1\nkind: GatewayConfig', 'apiVersion: stunner.l7mp.io/v1alpha1\nkind: GatewayConfig')
      .replace('  userQuota: 10', '  minPort: 40000\n  maxPort: 41000');
    const listeners = render(yaml).config.listeners as Array<Record<string, unknown>>;
    assert.deepEqual(listeners.map((l) => [l.min_relay_port, l.max_relay_port]), [[40000, 41000], [40000, 41000]]);
  });

  it('leaves out the public address of a ClusterIP Gateway, and uses status.addresses otherwise', () => {
    const clusterIp = HIERARCHY.replace('  namespace: stunner\nspec:\n  gatewayClassName', '  namespace: stunner\n  annotations: {stunner.l7mp.io/service-type: ClusterIP}\nspec:\n  gatewayClassName');
    assert.equal((render(clusterIp).config.listeners as Array<Record<string, unknown>>)[0].public_address, undefined);
    const fromStatus = HIERARCHY.replace('  addresses:\n    - type: IPAddress\n      value: 1.2.3.4\n', '').replace('---\napiVersion: v1\nkind: Secret',
      'status:\n  addresses: [{type: Hostname, value: lb.example.com}]\n---\napiVersion: v1\nkind: Secret');
    assert.equal((render(fromStatus).config.listeners as Array<Record<string, unknown>>)[0].public_address, 'lb.example.com');
  });

  it('flattens kind: List (kubectl get -o yaml)', () => {
    const items = parseDocuments(HIERARCHY);
    const { config } = renderKubernetes([{ apiVersion: 'v1', kind: 'List', items }]);
    assert.equal((config.clusters as unknown[]).length, 2);
  });

  it('warns about what it ignores or reads leniently', () => {
    const yaml = `${HIERARCHY}
---
apiVersion: v1
kind: Service
metadata: {name: media-server, namespace: media}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec: {controllerName: example.com/other}
---
apiVersion: stunner.l7mp.io/v1
kind: UDPRoute
metadata: {name: mixed, namespace: stunner}
spec:
  parentRefs: [{name: udp-gateway}]
  rules:
    - backendRefs:
        - {name: svc}
        - {group: stunner.l7mp.io, kind: StaticService, name: static-svc}
        - {group: stunner.l7mp.io, kind: StaticService, name: nowhere}
`.replace('protocol: TURN-UDP', 'protocol: UDP');
    const { warnings } = render(yaml);
    assert.deepEqual(warnings.map((w) => [w.resource, w.path, w.message]), [
      [undefined, 'document 8', 'Service media/media-server: not a STUNner gateway resource, ignored'],
      ['GatewayClass other', 'spec.controllerName', 'not stunner.l7mp.io/gateway-operator, ignored'],
      ['Gateway stunner/udp-gateway', 'spec.listeners[0].protocol', '"UDP" is deprecated, read as TURN-UDP'],
      ['UDPRoute stunner/mixed', 'spec.rules[0].backendRefs[1]', 'a STATIC backend cannot join this route\'s STRICT_DNS cluster, skipped'],
      ['UDPRoute stunner/mixed', 'spec.rules[0].backendRefs[2]', 'no StaticService stunner/nowhere in the input, skipped'],
    ]);
  });
});

describe('renderKubernetes: errors name the resource and field', () => {
  const cases: Array<[string, string, string]> = [
    ['listener port out of range', HIERARCHY.replace('port: 3478', 'port: 70000'),
      'Gateway stunner/udp-gateway: spec.listeners[0].port: must be 1..65535, got 70000'],
    ['listener port missing', HIERARCHY.replace('      port: 3478\n', ''),
      'Gateway stunner/udp-gateway: spec.listeners[0].port: required'],
    ['listener protocol unknown', HIERARCHY.replace('protocol: TURN-UDP', 'protocol: HTTP'),
      'Gateway stunner/udp-gateway: spec.listeners[0].protocol: must be one of TURN-UDP, TURN-TCP, TURN-TLS, TURN-DTLS, got "HTTP"'],
    ['duplicate listener name', HIERARCHY.replace('name: tls-listener', 'name: udp-listener'),
      'Gateway stunner/udp-gateway: spec.listeners[1].name: duplicate listener name "udp-listener"'],
    ['TLS Secret missing', HIERARCHY.replace('name: tls-secret\n---', 'name: missing\n---'),
      'Gateway stunner/udp-gateway: spec.listeners[1].tls.certificateRefs[0]: no Secret stunner/missing in the input'],
    ['TLS without certificateRefs', HIERARCHY.replace(/ {8}certificateRefs:\n(.*\n){3}/, ''),
      'Gateway stunner/udp-gateway: spec.listeners[1].tls.certificateRefs: required for TURN-TLS and TURN-DTLS listeners'],
    ['TLS passthrough', HIERARCHY.replace('mode: Terminate', 'mode: Passthrough'),
      'Gateway stunner/udp-gateway: spec.listeners[1].tls.mode: must be Terminate for a TURN listener, got "Passthrough"'],
    ['TLS Secret without key', HIERARCHY.replace(`  tls.key: ${KEY_B64}\n`, ''),
      'Secret stunner/tls-secret: data.tls.key: required: the PEM private key of a TLS listener'],
    ['password missing', CLASS_AND_CONFIG.replace('  password: pass-1\n', ''),
      'GatewayConfig stunner/stunner-gatewayconfig: spec.password: required for static auth'],
    ['password a YAML number', CLASS_AND_CONFIG.replace('password: pass-1', 'password: 1234'),
      'GatewayConfig stunner/stunner-gatewayconfig: spec.password: must be a string (quote it in YAML), got a number'],
    ['sharedSecret missing', CLASS_AND_CONFIG.replace('authType: static', 'authType: ephemeral'),
      'GatewayConfig stunner/stunner-gatewayconfig: spec.sharedSecret: required for ephemeral auth'],
    ['authType unknown', CLASS_AND_CONFIG.replace('authType: static', 'authType: oauth'),
      'GatewayConfig stunner/stunner-gatewayconfig: spec.authType: must be static, ephemeral, plaintext, longterm or timewindowed, got "oauth"'],
    ['metrics endpoint', CLASS_AND_CONFIG.replace('  userQuota: 10', '  metricsEndpoint: "tcp://:8080"'),
      'GatewayConfig stunner/stunner-gatewayconfig: spec.metricsEndpoint: must be http://[host][:port][/path], got "tcp://:8080"'],
    ['authRef Secret missing', CLASS_AND_CONFIG.replace('  userQuota: 10', '  authRef: {name: nope}'),
      'GatewayConfig stunner/stunner-gatewayconfig: spec.authRef: no Secret stunner/nope in the input'],
    ['GatewayConfig missing', CLASS_AND_CONFIG.replace('name: stunner-gatewayconfig\n    namespace', 'name: gone\n    namespace'),
      'GatewayClass stunner-gatewayclass: spec.parametersRef: no GatewayConfig stunner/gone in the input'],
    ['unsupported apiVersion', CLASS_AND_CONFIG.replace('stunner.l7mp.io/v1\nkind: GatewayConfig', 'stunner.l7mp.io/v2\nkind: GatewayConfig'),
      'GatewayConfig stunner/stunner-gatewayconfig: apiVersion: must be stunner.l7mp.io/v1 or stunner.l7mp.io/v1alpha1, got "stunner.l7mp.io/v2"\n' +
      'GatewayClass stunner-gatewayclass: spec.parametersRef: no GatewayConfig stunner/stunner-gatewayconfig in the input'],
    ['no GatewayConfig', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n', 'no GatewayConfig in the input: it holds the TURN credentials'],
    ['two STUNner classes', `${CLASS_AND_CONFIG}\n---\n${CLASS_AND_CONFIG.split('---')[0].replace('name: stunner-gatewayclass', 'name: second')}`,
      '2 STUNner GatewayClasses in the input (stunner-gatewayclass, second): choose one to render'],
    ['backend port range inverted', `${HIERARCHY}\n---\napiVersion: stunner.l7mp.io/v1\nkind: UDPRoute\nmetadata: {name: bad, namespace: stunner}
spec:\n  parentRefs: [{name: udp-gateway}]\n  rules: [{backendRefs: [{kind: StaticService, name: static-svc, port: 6000, endPort: 5000}]}]\n`,
      'UDPRoute stunner/bad: spec.rules[0].backendRefs[0].endPort: must be 6000..65535, got 5000'],
    ['resource defined twice', `${HIERARCHY}\n---\n${HIERARCHY.split('---')[3]}`,
      'Secret stunner/tls-secret: metadata.name: defined more than once in the input'],
  ];
  for (const [name, yaml, message] of cases) {
    it(name, () => {
      const err = renderError(yaml);
      assert.equal(err.code, 'ERR_CONFIG_INVALID');
      assert.equal(err.message, message);
    });
  }

  it('names the rendered listener or cluster when the rendered config is invalid', () => {
    const yaml = HIERARCHY.replace('"198.51.100.0/24"', '"198.51.100.0/33"');
    const err = configError(() => loadConfigText(yaml, { env: {} }));
    assert.equal(err.message, 'rendered cluster "stunner/external": endpoints[1]: prefix length must be 0..32, got "198.51.100.0/33"');
  });

  it('chooses among several classes by name', () => {
    const yaml = `${CLASS_AND_CONFIG}\n---\n${CLASS_AND_CONFIG.split('---')[0].replace('name: stunner-gatewayclass', 'name: second')}`;
    const { config } = loadConfigText(yaml, { env: {}, gatewayClassName: 'second' });
    assert.equal(config.auth.credentials.username, 'user-1');
  });
});

describe('selectorMatches', () => {
  const labels = { app: 'dev', tier: 'media' };
  const cases: Array<[unknown, boolean]> = [
    [{}, true],
    [{ matchLabels: { app: 'dev' } }, true],
    [{ matchLabels: { app: 'prod' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['media', 'web'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['media'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' }], matchLabels: { tier: 'web' } }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'Bogus' }] }, false],
  ];
  for (const [selector, want] of cases) {
    it(JSON.stringify(selector), () => assert.equal(selectorMatches(selector as Record<string, unknown>, labels), want));
  }
});

function indent(pem: string): string {
  return pem.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
}
