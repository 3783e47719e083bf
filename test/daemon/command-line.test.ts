// stunnerd's command line resolved with the environment, as upstream resolves it (cmd/stunnerd/main.go v1.2.1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCommandLine, type Invocation } from '../../src/daemon/command-line.ts';

const OPERATOR_ENV = {
  STUNNER_ADDR: '10.0.0.7', STUNNER_NAME: 'udp-gateway', STUNNER_NAMESPACE: 'stunner', STUNNER_NODENAME: 'node-1',
  STUNNER_CONFIG_ORIGIN: 'http://stunner-config-discovery.stunner-system.svc:13478',
};
const resolve = (argv: string[], env: Record<string, string> = {}): Invocation => resolveCommandLine(argv, env, 'host-1');
const source = (inv: Invocation): string => {
  const s = inv.source;
  return s.kind === 'cds' ? `cds ${s.url.href}${s.watch ? ' watch' : ''}` : s.kind === 'file' ? `file ${s.path}${s.watch ? ' watch' : ''}`
    : s.kind === 'uri' ? `uri ${s.uri}` : s.kind;
};

describe('resolveCommandLine', () => {
  it("the operator's Dataplane: stunnerd -w --udp-thread-num=16 with its environment", () => {
    const inv = resolve(['-w', '--udp-thread-num=16'], OPERATOR_ENV);
    assert.equal(source(inv), 'cds http://stunner-config-discovery.stunner-system.svc:13478/ watch');
    assert.deepEqual([inv.id, inv.node, inv.udpThreadNum, inv.drainMode], ['stunner/udp-gateway', 'node-1', 16, 'accept']);
    assert.deepEqual(inv.notes, []);
  });
  it('origin: -c over STUNNER_CONFIG_ORIGIN over :13478 (with -w); nothing at all runs the demo', () => {
    assert.equal(source(resolve(['-w'])), 'cds http://127.0.0.1:13478/ watch');
    assert.equal(source(resolve(['-c', '10.0.0.1:13478'], OPERATOR_ENV)), 'cds http://10.0.0.1:13478/');
    assert.equal(source(resolve([], OPERATOR_ENV)), 'cds http://stunner-config-discovery.stunner-system.svc:13478/');
    assert.equal(source(resolve(['-c', '/etc/stunnerd.conf', '-w'])), 'file /etc/stunnerd.conf watch');
    assert.equal(source(resolve(['-c', 'file:///etc/stunnerd.conf'])), 'file /etc/stunnerd.conf');
    assert.equal(source(resolve([])), 'demo');
  });
  it('a turn:// URI wins over -c and -w, as upstream, with a note', () => {
    const inv = resolve(['-w', '-c', 'x.yaml', 'turn://u:p@127.0.0.1:3478']);
    assert.equal(source(inv), 'uri turn://u:p@127.0.0.1:3478');
    assert.match(inv.notes.join('\n'), /-c and -w are ignored/);
  });
  it('-c k8s: --cds-server-address / CDS_SERVER_ADDR and the port; without an address a clear error', () => {
    assert.equal(source(resolve(['-w', '-c', 'k8s', '--cds-server-address', '10.1.1.1'])), 'cds http://10.1.1.1:13478/ watch');
    assert.equal(source(resolve(['-c', 'k8s', '--cds-server-port=1234'], { CDS_SERVER_ADDR: 'cds.svc' })), 'cds http://cds.svc:1234/');
    assert.throws(() => resolve(['-c', 'k8s']), /discovering the CDS server through the Kubernetes API is not available/);
  });
  it('id: -i, else STUNNER_NAMESPACE/STUNNER_NAME, else default/stunnerd-<hostname>', () => {
    assert.equal(resolve(['-i', 'a/b'], OPERATOR_ENV).id, 'a/b');
    assert.equal(resolve([], { STUNNER_NAME: 'gw' }).id, 'default/stunnerd-host-1');
  });
  it('-v, -l, --log-format, -d, --force-ready-status; drain mode refuse off the operator, --drain-mode overrides', () => {
    const inv = resolve(['-v', '-d', '--force-ready-status', '--log-format=json', '-c', 'f.yaml']);
    assert.deepEqual([inv.logLevel, inv.dryRun, inv.forceReady, inv.logFormat, inv.drainMode],
      ['all:DEBUG', true, true, 'json', 'refuse']);
    assert.equal(resolve(['-v', '-l', 'all:WARN']).logLevel, 'all:WARN');
    assert.equal(resolve(['-w', '--drain-mode', 'refuse']).drainMode, 'refuse');
    assert.equal(resolve(['--drain-mode=accept', '--drain-timeout', '30']).drainMode, 'accept');
    assert.equal(resolve(['--drain-timeout', '30']).drainTimeoutS, 30);
  });
  it("upstream's Kubernetes client flags are accepted, and named once in a note", () => {
    const inv = resolve(['-w', '--kubeconfig', '/k', '--context=c', '-n', 'ns', '-s', 'https://api:6443', '--token', 't',
      '--as-group', 'g1', '--as-group', 'g2', '--insecure-skip-tls-verify', '--request-timeout=5s', '--cds-server-namespace', 'x'],
    OPERATOR_ENV);
    assert.equal(inv.notes.length, 1);
    assert.match(inv.notes[0], /^--kubeconfig, --token, --context, --request-timeout, --namespace, --server, --as-group, --insecure-skip-tls-verify, --cds-server-namespace: accepted, no effect here/);
    assert.doesNotMatch(inv.notes[0], /\bt\b.*https/, 'values are not repeated');
  });
  it('bad values fail', () => {
    assert.throws(() => resolve(['--log-format', 'xml']), /--log-format: want text or json/);
    assert.throws(() => resolve(['--drain-mode', 'soft']), /--drain-mode: want accept or refuse/);
    assert.throws(() => resolve(['-u', '-1']), /--udp-thread-num: want 0\.\.1024/);
    assert.throws(() => resolve(['a', 'b']), /unexpected arguments: b/);
  });
});
