// Which relay ports get peer links (src/server/udp-relay.ts): by default those no ephemeral bind can be handed,
// read from the kernel's ip_local_port_range and ip_local_reserved_ports; STUNNERD_PEER_LINKS=1 every port, =0 none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ephemeralPort, peerLinksFor, peerLinksMode } from '../../src/server/udp-relay.ts';
import { ephemeralPortRange } from '../helpers/process.ts';

const [low, high] = ephemeralPortRange();
const reserved = readFileSync('/proc/sys/net/ipv4/ip_local_reserved_ports', 'utf8').trim();

test('the mode: 1 on, 0 off, anything else (unset included) auto', () => {
  assert.equal(peerLinksMode('1'), 'on');
  assert.equal(peerLinksMode('0'), 'off');
  assert.equal(peerLinksMode(undefined), 'auto');
  assert.equal(peerLinksMode('yes'), 'auto');
});

test('auto: ports outside the ephemeral range get links; inside it, and port 0, none', () => {
  assert.equal(ephemeralPort(0), true);
  assert.equal(peerLinksFor(0, 'auto'), false);
  if (reserved === '') {
    assert.equal(ephemeralPort(low), true);
    assert.equal(ephemeralPort(high), true);
    assert.equal(peerLinksFor(low, 'auto'), false);
  }
  if (low > 1) assert.equal(peerLinksFor(low - 1, 'auto'), true);
  if (high < 65535) assert.equal(peerLinksFor(high + 1, 'auto'), true);
});

test('on: every port, the ephemeral ones too; off: none', () => {
  for (const port of [0, low, high, 3478, 65535]) {
    assert.equal(peerLinksFor(port, 'on'), true);
    assert.equal(peerLinksFor(port, 'off'), false);
  }
});
