// A peer link (src/server/udp-relay-socket.ts) to a port nobody listens on, over real sockets on loopback: the
// kernel answers each datagram with ICMP port unreachable (ICMPv4 3/3, ICMPv6 1/4), reports it on the connected
// link as ECONNREFUSED, and the link hands the allocation the kind to count and the ICMP type and code to pass on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import type { IcmpInfo } from '../../src/stun/attributes/numeric.ts';
import type { PeerUnreachableKind } from '../../src/stats/listener-stats.ts';
import { createRelayDatagramSocket, UdpRelaySocket } from '../../src/server/udp-relay-socket.ts';
import { ClusterStats } from '../../src/stats/cluster-stats.ts';
import { freeUdpPort, nonEphemeralUdpPort } from '../helpers/process.ts';

const bind = (s: Socket, address: string, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => {
      s.off('error', reject);
      resolve();
    });
  });

for (const [family, address, icmp] of [[4, '127.0.0.1', { type: 3, code: 3, data: 0 }], [6, '::1', { type: 1, code: 4, data: 0 }]] as const) {
  test(`IPv${family}: a closed peer port's ICMP errors reach the allocation as port_unreachable, ICMP ${icmp.type}/${icmp.code}`, async () => {
    // A relay port outside the ephemeral range, as peer links get by default: another test's ephemeral bind with
    // SO_REUSEPORT (uclient's) is never given it.
    const socket = createRelayDatagramSocket(family, true);
    await bind(socket, address, await nonEphemeralUdpPort(address));
    const errors: Error[] = [];
    const relay = new UdpRelaySocket(socket, { family, address, port: socket.address().port }, () => {},
      (err) => errors.push(err), true);
    const heard: [PeerUnreachableKind, IcmpInfo | undefined][] = [];
    const link = relay.openPeerLink(address, await freeUdpPort(address), (kind, info) => heard.push([kind, info]));
    assert.ok(link !== undefined);
    try {
      // Until the link is connected its sends go out on the relay socket, which hears no ICMP: send until heard,
      // one datagram each 10 ms, as media would.
      // Each send is counted in the counters it is given, on either path.
      const counted = new ClusterStats('l', 'c');
      let sent = 0;
      for (; sent < 200 && heard.length < 3; sent++) {
        assert.equal(link.send(Buffer.from('ping'), counted), true);
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(heard.length >= 3, `${heard.length} ICMP errors heard`);
      assert.deepEqual([counted.txPackets, counted.txBytes], [sent, 4 * sent]);
      for (const h of heard) assert.deepEqual(h, ['port_unreachable', icmp]);
      assert.deepEqual(errors, []);
    } finally {
      relay.close();
    }
  });
}
