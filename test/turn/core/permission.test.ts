// CreatePermission on the pure core, RFC 8656 §10.2, and the gateway's peer admission policy behind it
// (docs/config.md "Peer admission"): 437, 400, 443, 403 and 508, and which cluster a permission counts in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Method } from '../../../src/stun/constants.ts';
import { XorPeerAddress } from '../../../src/stun/attributes/address.ts';
import { verifyMessageIntegrity } from '../../../src/stun/integrity.ts';
import { Core, MEDIA, codeOf, peerAddress, type ClusterSpec, type CoreOptions } from './harness.ts';

const ANY4: ClusterSpec = { name: 'any4', endpoints: ['0.0.0.0/0'] };
const ANY6: ClusterSpec = { name: 'any6', endpoints: ['::/0'] };
const dual: CoreOptions['families'] = [4, 6];

interface PeerCase {
  readonly peer: string;
  readonly clusters: readonly ClusterSpec[];
  readonly code: 200 | 403 | 443;
  /** The cluster the permission counts in, when admitted. */
  readonly cluster?: string;
  readonly why: string;
}

const peers: PeerCase[] = [
  { peer: '10.1.2.3', clusters: [MEDIA], code: 200, cluster: 'media', why: 'inside the cluster' },
  { peer: '192.168.1.1', clusters: [MEDIA], code: 403, why: 'outside every cluster' },
  { peer: '169.254.169.254', clusters: [ANY4], code: 403, why: 'link-local (cloud metadata) under 0.0.0.0/0' },
  {
    peer: '169.254.169.254', clusters: [ANY4, { name: 'metadata', endpoints: ['169.254.169.254/32'] }], code: 200,
    cluster: 'metadata', why: 'named explicitly by a /32 (a later route, as 0.0.0.0/0 does not count)',
  },
  {
    peer: '169.254.1.1', clusters: [{ name: 'll', endpoints: ['169.254.0.0/16'] }], code: 200, cluster: 'll',
    why: 'the refused range named as specifically as it is refused',
  },
  { peer: '169.254.1.1', clusters: [{ name: 'wide', endpoints: ['169.0.0.0/8'] }], code: 403, why: 'link-local under a /8' },
  { peer: '224.0.0.251', clusters: [ANY4], code: 403, why: 'multicast' },
  { peer: '239.255.255.250', clusters: [ANY4], code: 403, why: 'multicast (SSDP)' },
  { peer: '255.255.255.255', clusters: [ANY4], code: 403, why: 'broadcast' },
  { peer: '0.0.0.0', clusters: [ANY4], code: 403, why: 'unspecified' },
  { peer: '0.1.2.3', clusters: [ANY4], code: 403, why: '"this network" 0.0.0.0/8' },
  { peer: '127.0.0.1', clusters: [ANY4], code: 200, cluster: 'any4', why: 'loopback is not refused (tests rely on it)' },
  { peer: '2001:db8:cafe::1', clusters: [MEDIA], code: 443, why: 'an IPv6 peer on an IPv4 allocation' },
];

const peers6: PeerCase[] = [
  { peer: '2001:db8:cafe::1', clusters: [MEDIA], code: 200, cluster: 'media', why: 'inside the cluster' },
  { peer: '2001:db8:beef::1', clusters: [MEDIA], code: 403, why: 'outside every cluster' },
  { peer: '::ffff:10.0.0.1', clusters: [MEDIA], code: 200, cluster: 'media', why: 'IPv4-mapped, normalised to 10.0.0.1' },
  { peer: '::ffff:192.168.0.1', clusters: [MEDIA], code: 403, why: 'IPv4-mapped outside the cluster' },
  { peer: '::ffff:169.254.169.254', clusters: [ANY4], code: 403, why: 'IPv4-mapped metadata address' },
  { peer: '64:ff9b::10.0.0.1', clusters: [MEDIA], code: 200, cluster: 'media', why: 'NAT64, normalised to 10.0.0.1' },
  { peer: '64:ff9b::a9fe:a9fe', clusters: [ANY4, ANY6], code: 403, why: 'NAT64 metadata address' },
  { peer: '2002:a9fe:a9fe::1', clusters: [ANY4, ANY6], code: 403, why: '6to4 metadata address' },
  { peer: '2002:a00:1::', clusters: [MEDIA], code: 200, cluster: 'media', why: '6to4 of 10.0.0.1' },
  { peer: '::10.0.0.1', clusters: [MEDIA], code: 200, cluster: 'media', why: 'IPv4-compatible of 10.0.0.1' },
  { peer: 'fe80::1', clusters: [ANY6], code: 403, why: 'IPv6 link-local' },
  { peer: 'ff02::1', clusters: [ANY6], code: 403, why: 'IPv6 multicast' },
  { peer: '::', clusters: [ANY6], code: 403, why: 'IPv6 unspecified' },
];

for (const [family, cases] of [[4, peers], [6, peers6]] as const) {
  for (const c of cases) {
    test(`CreatePermission ${c.peer} on an IPv${family} allocation: ${c.code} (${c.why})`, async () => {
      const core = new Core({ clusters: c.clusters, families: dual });
      const client = core.client();
      await client.allocate((w) => {
        if (family === 6) w.addRaw(0x0017, Uint8Array.of(0x02, 0, 0, 0));
      });
      const res = await client.createPermission(c.peer);
      assert.equal(codeOf(res), c.code);
      assert.ok(verifyMessageIntegrity(res, client.key));
      const allocation = core.listener.lookup(client.link)!;
      assert.equal(allocation.permissions.size, c.code === 200 ? 1 : 0);
      for (const cl of c.clusters) {
        assert.equal(core.clusterStats(cl.name).connections, cl.name === c.cluster ? 1 : 0, `connections of ${cl.name}`);
      }
    });
  }
}

test('route order: the first cluster whose endpoint contains the peer names the flow', async () => {
  const core = new Core({
    clusters: [{ name: 'first', endpoints: ['10.0.0.0/8'] }, { name: 'second', endpoints: ['10.1.0.0/16'] }],
  });
  const client = core.client();
  await client.allocate();
  assert.equal(codeOf(await client.createPermission('10.1.0.1')), 200);
  assert.equal(core.clusterStats('first').connections, 1);
  assert.equal(core.clusterStats('second').connections, 0);
});

test('CreatePermission without an allocation: 437', async () => {
  const core = new Core();
  const client = core.client();
  const res = await client.createPermission('10.0.0.1');
  assert.equal(codeOf(res), 437);
  assert.ok(verifyMessageIntegrity(res, client.key));
  assert.deepEqual(core.requests(), { 'allocate 401': 1, 'create_permission 437': 1 });
});

test('CreatePermission without XOR-PEER-ADDRESS, or with a malformed one: 400', async () => {
  const core = new Core();
  const client = core.client();
  await client.allocate();
  assert.equal(codeOf(await client.request(Method.createPermission)), 400);
  const bad = await client.request(Method.createPermission, (w) => w.addRaw(0x0012, Uint8Array.of(0, 1, 0, 0)));
  assert.equal(codeOf(bad), 400);
  assert.equal(core.listener.lookup(client.link)!.permissions.size, 0);
});

test('several peers in one CreatePermission: all or nothing', async () => {
  const core = new Core();
  const client = core.client();
  await client.allocate();
  assert.equal(codeOf(await client.createPermission('10.0.0.1', '192.168.0.1')), 403);
  const allocation = core.listener.lookup(client.link)!;
  assert.equal(allocation.permissions.size, 0, 'the admitted peer of a refused request gets no permission');
  assert.equal(core.clusterStats().connections, 0);
  assert.equal(codeOf(await client.createPermission('10.0.0.1', '10.0.0.2', '10.0.0.1')), 200);
  assert.deepEqual([...allocation.permissions.keys()].sort(), ['10.0.0.1', '10.0.0.2']);
  assert.equal(core.clusterStats().connections, 2);
  assert.equal(core.clusterStats().connectionsTotal, 2, 'a repeated peer is one upstream connection');
});

test('508 beyond max_permissions_per_allocation; refreshing an existing permission is not refused', async () => {
  const core = new Core({ limits: { maxPermissionsPerAllocation: 2 } });
  const client = core.client();
  await client.allocate();
  assert.equal(codeOf(await client.createPermission('10.0.0.1', '10.0.0.2')), 200);
  const res = await client.createPermission('10.0.0.3');
  assert.equal(codeOf(res), 508);
  assert.ok(verifyMessageIntegrity(res, client.key));
  assert.equal(codeOf(await client.createPermission('10.0.0.2')), 200);
  // A ChannelBind to a new peer needs a new permission too.
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.3', 5000)), 508);
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 5000)), 200);
  assert.deepEqual(core.requests(), {
    'allocate 401': 1, 'allocate 200': 1, 'create_permission 200': 2, 'create_permission 508': 1,
    'channel_bind 508': 1, 'channel_bind 200': 1,
  });
});

test('XOR-PEER-ADDRESS is decoded with the transaction id of the request', async () => {
  const core = new Core();
  const client = core.client();
  await client.allocate();
  // Written as plain (un-XORed) bytes, 10.0.0.1 decodes to some other address that no cluster admits.
  const plain = Uint8Array.of(0, 1, 0x13, 0x88, 10, 0, 0, 1);
  assert.equal(codeOf(await client.request(Method.createPermission, (w) => w.addRaw(0x0012, plain))), 403);
  assert.equal(codeOf(await client.request(Method.createPermission,
    (w) => w.add(XorPeerAddress, peerAddress('10.0.0.1', 5000)))), 200);
});
