// Two DtlsServers on one port with SO_REUSEPORT, as two dataplane workers bind a TURN-DTLS listener. One of them
// goes away and a new one takes its place (a worker restart): the kernel then hands some flows of the reuseport
// group to the new socket. With connected sockets, every association of the surviving server keeps talking to
// it; without them, the flows the kernel moved reach a server that does not know them.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DtlsServer, type DtlsAssociation } from '../../src/server/dtls/dtls-server.ts';
import { freeUdpPort } from '../helpers/process.ts';
import { connectWeriftClient, eventually, makeCert, type CertPair, type WeriftPeer } from './helpers.ts';

const CLIENTS = 16;

/** An echo server: every decrypted datagram goes back to its association. */
async function echoServer(cert: CertPair, port: number, connectedSockets: boolean): Promise<{ server: DtlsServer; peers: Set<number> }> {
  const server = await DtlsServer.listen({ address: '127.0.0.1', port, reusePort: true, connectedSockets },
    { cert: cert.cert, key: cert.key });
  const peers = new Set<number>();
  server.on('association', (a: DtlsAssociation) => {
    peers.add(a.remotePort);
    a.on('message', (m: Buffer) => a.send(m));
  });
  return { server, peers };
}

async function echoes(c: WeriftPeer, text: string): Promise<boolean> {
  await c.client.send(Buffer.from(text));
  try {
    return (await c.nextData(1000)).toString() === text;
  } catch {
    return false;
  }
}

async function restartOne(connectedSockets: boolean, cert: CertPair): Promise<{ survivors: number; answered: number }> {
  const port = await freeUdpPort();
  const a = await echoServer(cert, port, connectedSockets);
  const b = await echoServer(cert, port, connectedSockets);
  const clients: WeriftPeer[] = [];
  let replacement: DtlsServer | undefined;
  try {
    for (let i = 0; i < CLIENTS; i++) clients.push(await connectWeriftClient(port));
    const onB = clients.filter((c) => b.peers.has(c.socket.address().port));
    assert.ok(onB.length > 0 && onB.length < CLIENTS, `the kernel spread the clients: ${onB.length} of ${CLIENTS} on one`);
    if (connectedSockets) {
      assert.ok(await eventually(() => b.server.connectedSocketCount === onB.length, 2000), 'every association got its socket');
    }
    for (const c of onB) assert.ok(await echoes(c, 'before'));
    // "Worker A" dies; a new one binds the port again and joins the reuseport group.
    await a.server.close();
    replacement = (await echoServer(cert, port, connectedSockets)).server;
    let answered = 0;
    for (const c of onB) if (await echoes(c, 'after')) answered++;
    return { survivors: onB.length, answered };
  } finally {
    for (const c of clients) c.close();
    await replacement?.close();
    await b.server.close();
    await a.server.close();
  }
}

describe('DTLS associations across a restart of another reuseport socket', () => {
  let cert: CertPair;
  before(() => {
    cert = makeCert('ec', 'reuseport');
  });

  it('with connected sockets, every association of the surviving server goes on', async () => {
    const r = await restartOne(true, cert);
    assert.equal(r.answered, r.survivors);
  });

  it('without them, the flows the kernel moves to the new socket go unanswered (what connected sockets prevent)', async (t) => {
    const r = await restartOne(false, cert);
    // The closed socket's place in the group goes to the group's last socket (B, bound after A) and the new one
    // goes last, where B was: the kernel moves B's flows to it.
    t.diagnostic(`${r.survivors - r.answered} of ${r.survivors} surviving associations unanswered without connected sockets`);
    assert.ok(r.answered < r.survivors);
  });
});
