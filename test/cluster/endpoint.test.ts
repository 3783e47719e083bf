// STATIC cluster endpoints as the cluster module reads them: `IP`, `CIDR`, with an optional `:<min-max>`
// peer port range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStaticEndpoint } from '../../src/cluster/endpoint.ts';

const good: { text: string; bits: number; minPort: number; maxPort: number }[] = [
  { text: '10.0.0.0/8', bits: 104, minPort: 0, maxPort: 65535 },
  { text: '10.0.0.0/8:<10000-20000>', bits: 104, minPort: 10000, maxPort: 20000 },
  { text: '10.0.0.1:<5000-5000>', bits: 128, minPort: 5000, maxPort: 5000 },
  { text: '  10.0.0.1  ', bits: 128, minPort: 0, maxPort: 65535 },
  { text: '::1:<1-2>', bits: 128, minPort: 1, maxPort: 2 },
  { text: '2001:db8::/32:<0-65535>', bits: 32, minPort: 0, maxPort: 65535 },
];

for (const g of good) {
  test(`endpoint ${JSON.stringify(g.text)}`, () => {
    const e = parseStaticEndpoint(g.text);
    assert.ok(typeof e !== 'string', String(e));
    assert.deepEqual([e.prefix.bits, e.minPort, e.maxPort], [g.bits, g.minPort, g.maxPort]);
  });
}

const bad: { text: string; says: RegExp }[] = [
  { text: '10.0.0.0/8:<20000-10000>', says: /min <= max/ },
  { text: '10.0.0.0/8:<1-70000>', says: /within 0\.\.65535/ },
  { text: '10.0.0.0/8:<1-2', says: /IP address or CIDR/ },
  { text: '10.0.0.0/8:5000', says: /IP address or CIDR/ },
  { text: 'media.example.com', says: /IP address or CIDR/ },
  { text: '10.0.0.0/40', says: /IP address or CIDR/ },
];

for (const b of bad) {
  test(`endpoint ${JSON.stringify(b.text)} is refused, saying what is wrong`, () => {
    const e = parseStaticEndpoint(b.text);
    assert.equal(typeof e, 'string');
    assert.match(e as string, b.says);
  });
}
