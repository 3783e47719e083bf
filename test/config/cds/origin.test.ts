// Config origins and CDS endpoints as upstream stunnerd v1.2.1 forms them (docs/cds-protocol.md, "Config origin").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cdsEndpoints, parseConfigOrigin } from '../../../src/config/cds/origin.ts';
import { resolveInstanceId, splitInstanceId } from '../../../src/config/cds/instance-id.ts';

describe('parseConfigOrigin', () => {
  const cases: Array<[string, string]> = [
    ['127.0.0.1:13478', 'cds http://127.0.0.1:13478/'],
    [':13478', 'cds http://127.0.0.1:13478/'],
    ['[::1]:13478', 'cds http://[::1]:13478/'],
    ['stunner-config-discovery.stunner-system.svc:13478', 'cds http://stunner-config-discovery.stunner-system.svc:13478/'],
    ['http://stunner-config-discovery.stunner-system.svc:13478', 'cds http://stunner-config-discovery.stunner-system.svc:13478/'],
    ['https://cds.example.org', 'cds https://cds.example.org/'],
    ['ws://10.0.0.1:13478/ignored/path', 'cds ws://10.0.0.1:13478/ignored/path'],
    ['file:///etc/stunnerd/stunnerd.conf', 'file /etc/stunnerd/stunnerd.conf'],
    ['/etc/stunnerd/stunnerd.conf', 'file /etc/stunnerd/stunnerd.conf'],
    ['stunnerd.yaml', 'file stunnerd.yaml'],
    ['k8s', 'k8s'],
  ];
  for (const [origin, want] of cases) {
    it(origin, () => {
      const o = parseConfigOrigin(origin);
      assert.equal(o.kind === 'cds' ? `cds ${o.url.href}` : o.kind === 'file' ? `file ${o.path}` : o.kind, want);
    });
  }
  it('rejects an empty origin, file:// without a path and other schemes', () => {
    for (const bad of ['', 'file://', 'ftp://x:1']) assert.throws(() => parseConfigOrigin(bad), { code: 'ERR_CONFIG_ORIGIN' });
  });
});

describe('cdsEndpoints', () => {
  it('the config path on the origin host, node before watch (Go sorts the query), Origin = the host dialled', () => {
    const e = cdsEndpoints(new URL('http://cds.svc:13478/some/path'), { namespace: 'stunner', name: 'udp-gateway', node: 'node-1' });
    // The GET keeps the origin's path as a prefix, the watch does not (both as upstream).
    assert.equal(e.get.href, 'http://cds.svc:13478/some/path/api/v1/configs/stunner/udp-gateway?node=node-1');
    assert.equal(e.watch.href, 'ws://cds.svc:13478/api/v1/configs/stunner/udp-gateway?node=node-1&watch=true');
    assert.equal(e.originHeader, 'http://cds.svc:13478');
  });
  it('no node: ?watch=true alone; https watches over wss', () => {
    const e = cdsEndpoints(new URL('https://cds:8443'), { namespace: 'ns', name: 'gw', node: '' });
    assert.equal(e.get.href, 'https://cds:8443/api/v1/configs/ns/gw');
    assert.equal(e.watch.href, 'wss://cds:8443/api/v1/configs/ns/gw?watch=true');
  });
});

describe('instance id', () => {
  it('-i, else STUNNER_NAMESPACE/STUNNER_NAME when both are set, else default/stunnerd-<hostname>', () => {
    assert.equal(resolveInstanceId('a/b', { STUNNER_NAME: 'n', STUNNER_NAMESPACE: 's' }, 'h'), 'a/b');
    assert.equal(resolveInstanceId(undefined, { STUNNER_NAME: 'n', STUNNER_NAMESPACE: 's' }, 'h'), 's/n');
    assert.equal(resolveInstanceId(undefined, { STUNNER_NAME: 'n' }, 'h'), 'default/stunnerd-h');
    assert.equal(resolveInstanceId('', {}, 'h'), 'default/stunnerd-h');
  });
  it('an id must split on "/" into exactly two parts', () => {
    assert.deepEqual(splitInstanceId('ns/gw'), { namespace: 'ns', name: 'gw' });
    assert.equal(splitInstanceId('gw'), undefined);
    assert.equal(splitInstanceId('a/b/c'), undefined);
  });
});
