// Peer admission (docs/config.md "Peer admission"): the first cluster in route order whose endpoint contains
// the normalised peer names the flow; unspecified, multicast, broadcast and link-local peers are refused
// unless a cluster names them as specifically; STRICT_DNS clusters admit what their names resolved to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterConfig } from '../../src/config/types.ts';
import { Cluster } from '../../src/cluster/cluster.ts';
import { PeerAdmission, admits, type AdmissionResult } from '../../src/cluster/peer-admission.ts';
import { StatsRegistry } from '../../src/stats/registry.ts';

function cluster(name: string, endpoints: string[], type: ClusterConfig['type'] = 'STATIC',
  protocol: ClusterConfig['protocol'] = 'UDP'): Cluster {
  return new Cluster({ name, type, protocol, endpoints });
}

function admission(routes: Cluster[], registry = new StatsRegistry()): PeerAdmission {
  return new PeerAdmission('l', routes, (c) => registry.cluster('l', c));
}

function named(r: AdmissionResult): string {
  return typeof r === 'string' ? r : r.cluster.name;
}

const refusedRanges: { peer: string; under: string; explicit: string }[] = [
  { peer: '0.0.0.0', under: '0.0.0.0/0', explicit: '0.0.0.0/8' },
  { peer: '0.10.20.30', under: '0.0.0.0/0', explicit: '0.0.0.0/8' },
  { peer: '224.0.0.1', under: '0.0.0.0/0', explicit: '224.0.0.0/4' },
  { peer: '239.1.2.3', under: '224.0.0.0/3', explicit: '239.1.2.3' },
  { peer: '255.255.255.255', under: '255.0.0.0/8', explicit: '255.255.255.255/32' },
  { peer: '169.254.169.254', under: '0.0.0.0/0', explicit: '169.254.169.254/32' },
  { peer: '169.254.0.1', under: '169.0.0.0/8', explicit: '169.254.0.0/16' },
  { peer: '::', under: '::/0', explicit: '::/128' },
  { peer: 'ff02::1', under: '::/0', explicit: 'ff00::/8' },
  { peer: 'fe80::1', under: '::/0', explicit: 'fe80::/10' },
  { peer: '::ffff:169.254.169.254', under: '0.0.0.0/0', explicit: '169.254.169.254' },
  { peer: '64:ff9b::a9fe:a9fe', under: '0.0.0.0/0', explicit: '169.254.169.254' },
  { peer: '2002:a9fe:a9fe::', under: '0.0.0.0/0', explicit: '169.254.169.254' },
];

for (const r of refusedRanges) {
  test(`${r.peer} is refused under ${r.under}, admitted by a cluster naming ${r.explicit}`, () => {
    assert.equal(admission([cluster('wide', [r.under])]).admit(r.peer), 'forbidden');
    const both = admission([cluster('wide', [r.under]), cluster('explicit', [r.explicit])]);
    assert.equal(named(both.admit(r.peer)), 'explicit');
  });
}

test('route order: the first matching cluster names the flow, whatever the prefix lengths', () => {
  const a = admission([cluster('wide', ['10.0.0.0/8']), cluster('narrow', ['10.1.2.3'])]);
  assert.equal(named(a.admit('10.1.2.3')), 'wide');
  const b = admission([cluster('narrow', ['10.1.2.3']), cluster('wide', ['10.0.0.0/8'])]);
  assert.equal(named(b.admit('10.1.2.3')), 'narrow');
  assert.equal(named(b.admit('10.1.2.4')), 'wide');
  assert.equal(named(b.admit('11.0.0.1')), 'forbidden');
});

test('the endpoint that matched gives the port range; several endpoints of one cluster are tried in order', () => {
  const a = admission([cluster('media', ['10.0.0.0/8:<10000-20000>', '192.168.0.0/16'])]);
  const r = a.admit('10.0.0.1');
  assert.ok(typeof r !== 'string');
  assert.deepEqual([r.minPort, r.maxPort], [10000, 20000]);
  const s = a.admit('192.168.3.4');
  assert.ok(typeof s !== 'string');
  assert.deepEqual([s.minPort, s.maxPort], [1, 65535]);
});

test('admissions count in the registry entry of (listener, cluster)', () => {
  const registry = new StatsRegistry();
  const r = admission([cluster('media', ['10.0.0.0/8'])], registry).admit('10.0.0.1');
  assert.ok(typeof r !== 'string');
  assert.equal(r.stats, registry.cluster('l', 'media'));
});

test('UDP peers are admitted only by UDP clusters', () => {
  const a = admission([cluster('tcp', ['10.0.0.0/8'], 'STATIC', 'TCP'), cluster('udp', ['10.0.0.0/16'])]);
  assert.equal(named(a.admit('10.0.0.1')), 'udp');
  assert.equal(named(a.admit('10.1.0.1')), 'forbidden');
  assert.equal(named(a.admit('10.1.0.1', 'TCP')), 'tcp');
  assert.equal(a.allowsTcp, true);
  assert.equal(admission([cluster('udp', ['10.0.0.0/8'])]).allowsTcp, false);
});

test('a peer that is not an IP address is malformed; no routes admit nothing', () => {
  assert.equal(admission([cluster('any', ['0.0.0.0/0'])]).admit('not-an-ip'), 'malformed');
  assert.equal(admission([]).admit('10.0.0.1'), 'forbidden');
});

test('an endpoint that does not parse admits nothing (the rest of the cluster still works)', () => {
  const a = admission([cluster('media', ['010.0.0.0/8', 'nonsense', '192.168.0.0/16'])]);
  assert.equal(a.admit('10.0.0.1'), 'forbidden');
  assert.equal(a.admit('203.0.113.9'), 'forbidden');
  assert.equal(named(a.admit('192.168.1.1')), 'media');
});

test('STRICT_DNS admits exactly the addresses last resolved, on any port', () => {
  const dns = cluster('svc', ['media.default.svc.cluster.local'], 'STRICT_DNS');
  const a = admission([dns]);
  assert.deepEqual(dns.hostnames, ['media.default.svc.cluster.local']);
  assert.equal(a.admit('10.0.0.5'), 'forbidden', 'nothing before the first resolution');
  assert.equal(dns.setResolved(['10.0.0.5', '2001:db8::5']), true);
  const r = a.admit('10.0.0.5');
  assert.ok(typeof r !== 'string');
  assert.deepEqual([r.cluster.name, r.minPort, r.maxPort], ['svc', 0, 65535]);
  assert.equal(named(a.admit('2001:db8::5')), 'svc');
  assert.equal(a.admit('10.0.0.6'), 'forbidden', 'a host, not a prefix');
  assert.equal(named(a.admit('::ffff:10.0.0.5')), 'svc', 'the peer is normalised before matching');
  assert.equal(dns.setResolved(['2001:db8::5', '10.0.0.5']), false, 'the same set in another order is no change');
  assert.equal(dns.setResolved(['10.0.0.6', 'garbage']), true);
  assert.equal(a.admit('10.0.0.5'), 'forbidden', 'a re-resolution replaces the old addresses');
  assert.equal(named(a.admit('10.0.0.6')), 'svc');
  assert.equal(dns.setResolved([]), true);
  assert.equal(a.admit('10.0.0.6'), 'forbidden');
});

test('STRICT_DNS and STATIC clusters keep route order between them', () => {
  const dns = cluster('svc', ['media'], 'STRICT_DNS');
  dns.setResolved(['10.0.0.5']);
  assert.equal(named(admission([dns, cluster('net', ['10.0.0.0/8'])]).admit('10.0.0.5')), 'svc');
  assert.equal(named(admission([cluster('net', ['10.0.0.0/8']), dns]).admit('10.0.0.5')), 'net');
  assert.equal(cluster('net', ['10.0.0.0/8']).hostnames.length, 0);
});

test('a STRICT_DNS answer never names a refused range: a host resolving to cloud metadata is refused', () => {
  const dns = cluster('svc', ['metadata'], 'STRICT_DNS');
  dns.setResolved(['169.254.169.254', '10.0.0.5']);
  assert.equal(admission([dns]).admit('169.254.169.254'), 'forbidden');
  assert.equal(named(admission([dns]).admit('10.0.0.5')), 'svc');
  // Only a STATIC endpoint can open such a range explicitly.
  assert.equal(named(admission([dns, cluster('meta', ['169.254.169.254/32'])]).admit('169.254.169.254')), 'meta');
});

test('STRICT_DNS addresses are normalised like peers: a NAT64 or 6to4 answer admits the peer in that form', () => {
  const dns = cluster('svc', ['media'], 'STRICT_DNS');
  dns.setResolved(['64:ff9b::a00:7', '2002:a00:8::', '::ffff:10.0.0.9']);
  const a = admission([dns]);
  for (const peer of ['64:ff9b::a00:7', '10.0.0.7', '2002:a00:8::', '10.0.0.8', '::ffff:10.0.0.9', '10.0.0.9']) {
    assert.equal(named(a.admit(peer)), 'svc', peer);
  }
  assert.equal(a.admit('10.0.0.10'), 'forbidden');
});

test("admits: an admission admits exactly the ports of its endpoint's :<min-max> range, none when withdrawn", () => {
  const r = admission([cluster('media', ['10.0.0.0/8:<10000-20000>'])]).admit('10.0.0.1');
  assert.ok(typeof r !== 'string');
  assert.deepEqual([9999, 10000, 15000, 20000, 20001].map((port) => admits(r, port)), [false, true, true, true, false]);
  assert.equal(admits(undefined, 15000), false, 'a reconfiguration no longer admits the peer');
  const any = admission([cluster('media', ['10.0.0.0/8'])]).admit('10.0.0.1');
  assert.ok(typeof any !== 'string');
  assert.deepEqual([0, 1, 65535].map((port) => admits(any, port)), [false, true, true], 'a plain prefix: ports 1-65535');
});
