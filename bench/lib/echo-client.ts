// A closed-loop echo load (run as its own process): F flows, each keeping W ChannelData messages in
// flight through a relay to an echo peer. The same load drives stunnerd (through real TURN allocations
// and channels) and the bare Node relay, so their CPU per message compares like for like.
// Usage: node echo-client.ts turn|bare RELAY_PORT PEER_PORT SIZE FLOWS WINDOW SECONDS
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { TurnClient } from '../../src/client/turn-client.ts';

const [mode, relayPortS, peerPortS, sizeS, flowsS, windowS, secondsS] = process.argv.slice(2);
const [relayPort, peerPort, size, nflows, win, seconds] = [relayPortS, peerPortS, sizeS, flowsS, windowS, secondsS].map(Number);
const HOST = '127.0.0.1';
const CHANNEL = 0x4000;
let measuring = false;
let sent = 0;
let recv = 0;

interface Flow { send(): void; recv: number; last: number }

function frame(): Buffer {
  const b = Buffer.alloc(4 + size, 7);
  b.writeUInt16BE(CHANNEL, 0);
  b.writeUInt16BE(size, 2);
  return b;
}

async function turnFlow(): Promise<Flow> {
  const c = await TurnClient.connect({ kind: 'udp', host: HOST, port: relayPort, username: 'test', password: 'test' });
  await c.allocate();
  await c.channelBind(CHANNEL, { family: 4, address: HOST, port: peerPort });
  const f: Flow = { send: () => { c.transport.send(frame()); if (measuring) sent++; }, recv: 0, last: 0 };
  c.transport.onFrame = () => { f.recv++; if (measuring) recv++; f.send(); };
  return f;
}

async function bareFlow(): Promise<Flow> {
  const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((r) => s.bind(0, HOST, r));
  const f: Flow = { send: () => { s.send(frame(), relayPort, HOST); if (measuring) sent++; }, recv: 0, last: 0 };
  s.on('message', () => { f.recv++; if (measuring) recv++; f.send(); });
  return f;
}

const flows: Flow[] = [];
for (let i = 0; i < nflows; i++) flows.push(mode === 'turn' ? await turnFlow() : await bareFlow());
for (const f of flows) for (let i = 0; i < win; i++) f.send();
// Refill a flow whose whole window was lost.
const refill = setInterval(() => {
  for (const f of flows) {
    if (f.recv === f.last) for (let i = 0; i < win; i++) f.send();
    f.last = f.recv;
  }
}, 50);
await sleep(1000); // warm-up: JIT, socket buffers
measuring = true;
process.send!({ mark: 'start' });
const t0 = process.hrtime.bigint();
await sleep(seconds * 1000);
measuring = false;
process.send!({ mark: 'end', secs: Number(process.hrtime.bigint() - t0) / 1e9, sent, recv });
clearInterval(refill);
setTimeout(() => process.exit(0), 100);
