#!/usr/bin/env node
// The ceiling of a bare Node.js UDP relay (no TURN logic), adapted from shared/tools/node-udp-echo-bench.mjs:
// one server socket, one relay socket per client flow (like TURN allocations), ChannelData headers
// stripped towards the peer and added back towards the client. The baseline stunnerd is compared with.
// Usage: node node-udp-relay.mjs PORT PEER_PORT      (binds 127.0.0.1; prints "ready" when listening)
import dgram from 'node:dgram';

const HOST = '127.0.0.1';
const [port, peerPort] = process.argv.slice(2).map(Number);
const srv = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
const flows = new Map(); // "addr:port" -> relay socket
srv.on('message', (m, r) => {
  const key = `${r.address}:${r.port}`;
  let rs = flows.get(key);
  if (!rs) {
    rs = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    rs.bind(0, HOST);
    rs.on('message', (pm) => {
      const out = Buffer.allocUnsafe(pm.length + 4);
      out.writeUInt16BE(0x4000, 0);
      out.writeUInt16BE(pm.length, 2);
      pm.copy(out, 4);
      srv.send(out, r.port, r.address);
    });
    flows.set(key, rs);
  }
  rs.send(m.subarray(4), peerPort, HOST);
});
srv.bind(port, HOST, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
