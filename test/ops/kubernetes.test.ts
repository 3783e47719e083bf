// What a STUNner user writes for Kubernetes (GatewayClass, GatewayConfig, Gateway, UDPRoute, StaticService),
// run directly: `STUNNER_ADDR=127.0.0.1 stunnerd -c k8s.yaml`. turnutils_uclient relays through the rendered
// listener without loss, metrics are served at the GatewayConfig's metricsEndpoint, a change to the resources
// is reloaded, and `stunnerd render` shows the rendered config with secrets hidden unless asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeUdpPort, stunnerd } from '../helpers/process.ts';
import { turnutilsPeer, uclient } from '../helpers/uclient.ts';
import { freePorts, startDaemon, tempDir, type Ports } from './support/daemon.ts';
import { valueOf } from './support/samples.ts';

// The upstream monitoring doc's GatewayConfig (docs/MONITORING.md), verbatim.
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

const LISTENER = 'stunner/udp-gateway/udp-listener';
const CLUSTER = 'stunner/media-plane';

/** The monitoring doc's GatewayConfig on free loopback ports, plus the resources that make a gateway of it. */
function resources(p: Ports, extraSpec = ''): string {
  const gatewayConfig = MONITORING_DOC_GATEWAYCONFIG
    .replace('"http://:8080/metrics"', `"http://127.0.0.1:${p.metrics}/metrics"\n  healthCheckEndpoint: "http://127.0.0.1:${p.health}"${extraSpec}`);
  return `apiVersion: gateway.networking.k8s.io/v1
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
${gatewayConfig}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: udp-gateway
  namespace: stunner
spec:
  gatewayClassName: stunner-gatewayclass
  listeners:
    - name: udp-listener
      port: ${p.turn}
      protocol: TURN-UDP
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
        - group: stunner.l7mp.io
          kind: StaticService
          name: media-server
---
apiVersion: stunner.l7mp.io/v1
kind: StaticService
metadata:
  name: media-server
  namespace: stunner
spec:
  prefixes:
    - "127.0.0.1/32"
`;
}

test('stunnerd -c k8s.yaml: uclient relays through the rendered gateway with zero loss; metrics at metricsEndpoint', async () => {
  const dir = tempDir('k8s');
  const file = join(dir, 'k8s.yaml');
  const ports = await freePorts();
  writeFileSync(file, resources(ports));
  const peerPort = await freeUdpPort();
  const peer = await turnutilsPeer('127.0.0.1', peerPort);
  const d = await startDaemon({ args: ['-c', file, '-w'], env: { STUNNER_ADDR: '127.0.0.1' }, healthPort: ports.health,
    metricsPort: ports.metrics });
  try {
    const status = await d.status();
    assert.equal(status.name, 'stunner-daemon');
    assert.deepEqual(status.listeners.map((l) => [l.name, l.port]), [[LISTENER, ports.turn]]);
    assert.deepEqual(status.clusters.map((c) => c.name), [CLUSTER]);

    const r = await uclient({ port: ports.turn, user: 'my-user', password: 'my-password', sessions: 5, messages: 100,
      intervalMs: 10, peer: { address: '127.0.0.1', port: peerPort }, timeoutS: 60 });
    assert.deepEqual(r.errors, [], r.output.slice(-2000));
    assert.equal(r.sent, 500, r.output.slice(-2000));
    assert.equal(r.received, 500);
    assert.equal(r.lost, 0);

    const samples = await d.samples();
    assert.equal(valueOf(samples, 'stunner_cluster_packets_total', { name: LISTENER, cluster: CLUSTER, direction: 'tx' }), 500);
    assert.equal(valueOf(samples, 'stunner_cluster_packets_total', { name: LISTENER, cluster: CLUSTER, direction: 'rx' }), 500);
    assert.ok((valueOf(samples, 'stunner_listener_packets_total', { name: LISTENER, direction: 'rx' }) ?? 0) > 500);
    assert.equal(valueOf(samples, 'stunner_build_info'), 1);

    // The user edits the resources (a quota on the GatewayConfig): watched and reloaded like a stunnerd config.
    writeFileSync(file, resources(ports, '\n  userQuota: 50'));
    await d.waitGeneration(2);
    assert.equal(await d.value('stunner_config_reloads_total', { result: 'success' }), 1);
  } finally {
    await d.kill();
    await peer.stop();
  }
});

async function render(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  const p = stunnerd(['render', ...args], env);
  const [code] = await once(p.child, 'exit');
  return { code: code as number | null, out: p.output() };
}

test('stunnerd render: secrets redacted, --show-secrets, -o json; the monitoring doc GatewayConfig renders verbatim', async () => {
  const dir = tempDir('render');
  const file = join(dir, 'k8s.yaml');
  const ports = await freePorts();
  writeFileSync(file, resources(ports));
  const docFile = join(dir, 'monitoring-doc.yaml');
  writeFileSync(docFile, MONITORING_DOC_GATEWAYCONFIG);

  const yaml = await render(['-c', file], { STUNNER_ADDR: '127.0.0.1' });
  assert.equal(yaml.code, 0, yaml.out);
  assert.match(yaml.out, /username: my-user\n\s+password: <redacted>/);
  assert.doesNotMatch(yaml.out, /my-password/);
  assert.match(yaml.out, new RegExp(`- name: ${LISTENER}\\n\\s+protocol: TURN-UDP\\n\\s+address: 127\\.0\\.0\\.1\\n\\s+port: ${ports.turn}`));

  const shown = await render(['-c', file, '--show-secrets'], { STUNNER_ADDR: '127.0.0.1' });
  assert.equal(shown.code, 0, shown.out);
  assert.match(shown.out, /password: my-password/);
  // What --show-secrets prints is a stunnerd config that renders to itself.
  const renderedFile = join(dir, 'rendered.yaml');
  writeFileSync(renderedFile, shown.out);
  const again = await render(['-c', renderedFile, '--show-secrets']);
  assert.equal(again.code, 0, again.out);
  assert.equal(again.out, shown.out);

  const json = await render(['-c', file, '-o', 'json'], { STUNNER_ADDR: '127.0.0.1' });
  assert.equal(json.code, 0, json.out);
  const config = JSON.parse(json.out) as {
    auth: { credentials: Record<string, string> };
    listeners: { name: string; address: string; port: number; routes: string[] }[];
    clusters: { name: string; type: string; endpoints: string[] }[];
  };
  assert.deepEqual(config.auth.credentials, { username: 'my-user', password: '<redacted>' });
  assert.deepEqual(config.listeners.map((l) => [l.name, l.address, l.port, l.routes]),
    [[LISTENER, '127.0.0.1', ports.turn, [CLUSTER]]]);
  assert.deepEqual(config.clusters, [{ name: CLUSTER, type: 'STATIC', protocol: 'UDP', endpoints: ['127.0.0.1/32'] }]);

  const doc = await render(['-c', docFile, '-o', 'json']);
  assert.equal(doc.code, 0, doc.out);
  const docConfig = JSON.parse(doc.out) as { admin: Record<string, unknown>; auth: Record<string, unknown> };
  assert.equal(docConfig.admin.metrics_endpoint, 'http://:8080/metrics');
  assert.equal(docConfig.admin.healthcheck_endpoint, 'http://:8086');
  assert.deepEqual(docConfig.auth, { type: 'static', realm: 'stunner.l7mp.io',
    credentials: { username: 'my-user', password: '<redacted>' } });

  // A broken resource: exit 1, naming the resource and the field.
  writeFileSync(file, resources(ports).replace(`port: ${ports.turn}`, 'port: 70000'));
  const bad = await render(['-c', file]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /Gateway stunner\/udp-gateway: spec\.listeners\[0\]\.port: must be 1\.\.65535, got 70000/);
});
