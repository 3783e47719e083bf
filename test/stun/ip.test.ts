// IP text <-> bytes (ip.ts): the codec's text form must equal the one Node reports for a socket address, so
// decoded peer addresses compare equal to rinfo.address; Node's own formatting (net.SocketAddress, the same
// libuv routine dgram uses) is the oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketAddress } from 'node:net';
import { formatIPv4, formatIPv6, ipFamily, writeIPv4, writeIPv6 } from '../../src/stun/index.ts';

function groupsText(b: Uint8Array): string {
  return Array.from({ length: 8 }, (_, g) => ((b[2 * g] << 8) | b[2 * g + 1]).toString(16)).join(':');
}

/** Addresses rich in zero runs, the interesting case for `::` compression. */
function* ipv6Cases(): Generator<Uint8Array> {
  for (let mask = 0; mask < 256; mask++) {
    for (const filler of [1, 0xffff, 0x1234]) {
      const b = new Uint8Array(16);
      for (let g = 0; g < 8; g++) {
        if (mask & (1 << g)) continue;
        b[2 * g] = (filler + g) >> 8;
        b[2 * g + 1] = (filler + g) & 0xff;
      }
      yield b;
    }
  }
  // IPv4-mapped and IPv4-compatible forms.
  for (const tail of [[192, 0, 2, 1], [0, 0, 0, 1], [0, 1, 0, 0], [1, 2, 3, 4]]) {
    yield Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...tail]);
    yield Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...tail]);
  }
}

test('formatIPv6 matches the text Node reports, and writeIPv6 parses it back', () => {
  for (const b of ipv6Cases()) {
    const text = formatIPv6(b, 0);
    const node = new SocketAddress({ address: groupsText(b), family: 'ipv6' }).address;
    assert.equal(text, node, groupsText(b));
    const back = new Uint8Array(16);
    assert.equal(writeIPv6(text, back, 0), true, text);
    assert.deepEqual(back, b, text);
    assert.equal(ipFamily(text), 6);
  }
});

test('formatIPv4 / writeIPv4 round-trip every octet value', () => {
  for (let x = 0; x < 256; x++) {
    const b = Uint8Array.of(x, 255 - x, x ^ 0x55, 0);
    const text = formatIPv4(b, 0);
    assert.equal(text, new SocketAddress({ address: text, family: 'ipv4' }).address);
    const back = new Uint8Array(4);
    assert.equal(writeIPv4(text, back, 0), true);
    assert.deepEqual(back, b);
    assert.equal(ipFamily(text), 4);
  }
});

test('writeIPv6 accepts the textual forms of RFC 4291 §2.2 and a zone index', () => {
  const cases: [string, string][] = [
    ['2001:DB8:0:0:8:800:200C:417A', '2001:db8::8:800:200c:417a'],
    ['FF01::101', 'ff01::101'],
    ['0:0:0:0:0:0:13.1.68.3', '::13.1.68.3'],
    ['::FFFF:129.144.52.38', '::ffff:129.144.52.38'],
    ['fe80::1%eth0', 'fe80::1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1::', '1::'],
  ];
  for (const [input, text] of cases) {
    const b = new Uint8Array(16);
    assert.equal(writeIPv6(input, b, 0), true, input);
    assert.equal(formatIPv6(b, 0), text, input);
  }
  for (const bad of ['', '1', '1:2:3:4:5:6:7:8:9', '::1::', '1:2:3:4:5:6:7:8::', '12345::', '::1.2.3.4.5', 'x::']) {
    assert.equal(writeIPv6(bad, new Uint8Array(16), 0), false, bad);
    assert.equal(ipFamily(bad), 0, bad);
  }
});
