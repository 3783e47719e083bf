// turncat and stunnerd as processes: a local UDP port tunnelled through the gateway to an echo peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { freeUdpPort, run, stunnerd } from '../helpers/process.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';

test('turncat tunnels datagrams through stunnerd started from a turn:// URI', async () => {
  const turnPort = await freeUdpPort();
  const localPort = await freeUdpPort();
  const peer = await startEchoPeer();
  const gw = stunnerd([`turn://user1:passwd1@127.0.0.1:${turnPort}`], { });
  const cat = run(process.execPath, ['src/cmd/turncat.ts', `udp://127.0.0.1:${localPort}`,
    `turn://user1:passwd1@127.0.0.1:${turnPort}`, `udp://127.0.0.1:${peer.port}`]);
  const sock = createSocket('udp4');
  try {
    await gw.waitFor('stunnerd running');
    await cat.waitFor('listening');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString()));
    for (let i = 0; i < 5; i++) {
      sock.send(`ping ${i}`, localPort, '127.0.0.1');
      if (i === 0) await once(sock, 'message');
    }
    const deadline = Date.now() + 5000;
    while (replies.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(replies.sort(), ['ping 0', 'ping 1', 'ping 2', 'ping 3', 'ping 4']);
    assert.equal(peer.received, 5);
  } finally {
    sock.close();
    await cat.stop();
    await gw.stop('SIGINT');
    await peer.close();
  }
});
