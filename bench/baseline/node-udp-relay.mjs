#!/usr/bin/env node
// The ceiling of a bare Node.js UDP relay (no TURN logic), adapted from shared/tools/node-udp-echo-bench.mjs:
// one server socket, one relay socket per client flow (like TURN allocations), ChannelData headers
// stripped towards the peer and added back towards the client. The baseline stunnerd is compared with.
// With THREADS > 1, that many worker threads each bind the server port with SO_REUSEPORT and relay the flows the
// kernel hashes onto their socket, as stunnerd's workers do: the floor of a multi-threaded Node relay.
// Usage: node node-udp-relay.mjs PORT PEER_PORT [THREADS]   (binds 127.0.0.1; prints "ready" when listening)
import dgram from 'node:dgram';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const HOST = '127.0.0.1';

function relay(port, peerPort, reusePort, ready) {
  const srv = dgram.createSocket({ type: 'udp4', reusePort, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
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
  srv.bind(port, HOST, ready);
}

if (isMainThread) {
  const [port, peerPort, threads = 1] = process.argv.slice(2).map(Number);
  if (threads <= 1) {
    relay(port, peerPort, false, () => console.log('ready'));
  } else {
    let bound = 0;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(new URL(import.meta.url), { workerData: { port, peerPort } });
      w.on('message', () => {
        if (++bound === threads) console.log('ready');
      });
      w.on('error', (err) => {
        console.error(err);
        process.exit(1);
      });
    }
  }
  process.on('SIGTERM', () => process.exit(0));
} else {
  relay(workerData.port, workerData.peerPort, true, () => parentPort.postMessage('bound'));
}
