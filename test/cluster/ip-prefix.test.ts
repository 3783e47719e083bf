// CIDR prefixes on 128 bits (IPv4 as IPv4-mapped) and the normalisation of IPv6 forms that embed an IPv4
// address (docs/config.md, "Peer admission").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToIp, ipToBytes, normalisePeer, parsePrefix, prefixContains } from '../../src/cluster/ip-prefix.ts';

const parsed: { text: string; bits: number }[] = [
  { text: '10.0.0.0/8', bits: 96 + 8 },
  { text: '10.1.2.3', bits: 128 },
  { text: '10.1.2.3/32', bits: 128 },
  { text: '0.0.0.0/0', bits: 96 },
  { text: '::/0', bits: 0 },
  { text: '2001:db8::/32', bits: 32 },
  { text: '2001:db8::1', bits: 128 },
  { text: '::ffff:10.0.0.0/104', bits: 104 },
];

for (const p of parsed) {
  test(`parsePrefix("${p.text}") has ${p.bits} bits`, () => {
    const prefix = parsePrefix(p.text);
    assert.ok(prefix !== undefined);
    assert.equal(prefix.bits, p.bits);
    assert.equal(prefix.text, p.text);
  });
}

const malformed = [
  '', 'host.example', '10.0.0', '10.0.0.0.0', '256.0.0.1', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1',
  '10.0.0.0/8/8', '10.0.0.0/ 8', '10.0.0.0/0x8', '::/129', '2001:db8::/1234', ':::', '2001:db8::g',
  // Leading zeros are not an IPv4 address to node:net; an octal reading would admit the wrong network.
  '010.0.0.0/8', '10.0.0.01',
];

for (const text of malformed) {
  test(`parsePrefix(${JSON.stringify(text)}) is malformed`, () => {
    assert.equal(parsePrefix(text), undefined);
  });
}

const containment: { prefix: string; ip: string; inside: boolean }[] = [
  { prefix: '10.0.0.0/8', ip: '10.255.255.255', inside: true },
  { prefix: '10.0.0.0/8', ip: '11.0.0.0', inside: false },
  { prefix: '10.0.0.0/8', ip: '9.255.255.255', inside: false },
  { prefix: '10.0.0.77/8', ip: '10.9.9.9', inside: true },
  { prefix: '192.168.1.0/23', ip: '192.168.0.1', inside: true },
  { prefix: '192.168.1.0/23', ip: '192.168.2.1', inside: false },
  { prefix: '10.1.2.3', ip: '10.1.2.3', inside: true },
  { prefix: '10.1.2.3', ip: '10.1.2.4', inside: false },
  { prefix: '0.0.0.0/0', ip: '203.0.113.1', inside: true },
  { prefix: '0.0.0.0/0', ip: '2001:db8::1', inside: false },
  { prefix: '2001:db8::/32', ip: '2001:db8:ffff::1', inside: true },
  { prefix: '2001:db8::/32', ip: '2001:db9::1', inside: false },
  { prefix: '2001:db8::/33', ip: '2001:db8:8000::', inside: false },
  { prefix: '2001:db8::/33', ip: '2001:db8:7fff::', inside: true },
  { prefix: '::/0', ip: '2001:db8::1', inside: true },
];

for (const c of containment) {
  test(`${c.prefix} ${c.inside ? 'contains' : 'does not contain'} ${c.ip}`, () => {
    assert.equal(prefixContains(parsePrefix(c.prefix)!, ipToBytes(c.ip)!), c.inside);
  });
}

const normalised: { ip: string; to: string; form: string }[] = [
  { ip: '::ffff:10.0.0.1', to: '10.0.0.1', form: 'IPv4-mapped' },
  { ip: '::ffff:a00:1', to: '10.0.0.1', form: 'IPv4-mapped, hex' },
  { ip: '::10.0.0.1', to: '10.0.0.1', form: 'IPv4-compatible' },
  { ip: '::a9fe:a9fe', to: '169.254.169.254', form: 'IPv4-compatible, hex' },
  { ip: '2002:0a00:0001::', to: '10.0.0.1', form: '6to4' },
  { ip: '2002:a9fe:a9fe:1234::1', to: '169.254.169.254', form: '6to4 with subnet and host bits' },
  { ip: '64:ff9b::10.0.0.1', to: '10.0.0.1', form: 'NAT64' },
  { ip: '64:ff9b::a00:1', to: '10.0.0.1', form: 'NAT64, hex' },
  { ip: '10.0.0.1', to: '10.0.0.1', form: 'plain IPv4' },
  { ip: '::1', to: '::1', form: 'loopback, not IPv4-compatible' },
  { ip: '::', to: '::', form: 'unspecified, not IPv4-compatible' },
  { ip: '2001:db8::1', to: '2001:db8::1', form: 'plain IPv6' },
  { ip: '64:ff9b:1::a00:1', to: '64:ff9b:1::a00:1', form: 'the local-use NAT64 prefix is not the well-known one' },
  { ip: '2003:a00:1::', to: '2003:a00:1::', form: 'outside 2002::/16' },
];

for (const n of normalised) {
  test(`normalisePeer: ${n.ip} (${n.form}) -> ${n.to}`, () => {
    assert.equal(bytesToIp(normalisePeer(ipToBytes(n.ip)!)), n.to);
  });
}

test('ipToBytes maps IPv4 into ::ffff:0:0/96 and refuses what is not an IP', () => {
  assert.deepEqual([...ipToBytes('1.2.3.4')!], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
  assert.deepEqual(ipToBytes('1.2.3.4'), ipToBytes('::ffff:1.2.3.4'));
  for (const bad of ['', 'example.com', '1.2.3', '1.2.3.4.5', '::g', '1:2:3:4:5:6:7:8:9']) {
    assert.equal(ipToBytes(bad), undefined, bad);
  }
});
