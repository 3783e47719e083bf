// A worker thread for the shared-state tests: it builds dataplane pieces (port pools, relay allocators, quota,
// challenge limiter, TurnServer) on the SharedDataplaneState it is given, as worker `worker`, and runs what the
// test asks, one call at a time. Races start together: each call waits at the barrier (workers.ts) when it is
// given one. Some calls end the thread, as a worker of the dataplane dies: exiting, throwing, or stopped by
// terminate() inside a section.
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { RelayPortPool, type PortPick } from '../../src/server/port-pool.ts';
import { planRelayAddresses } from '../../src/server/relay-address.ts';
import { UdpRelayAllocator } from '../../src/server/udp-relay.ts';
import { sharedRelays, stateForWorker, type SharedDataplaneState } from '../../src/shared/dataplane-state.ts';
import { holderTag, lock } from '../../src/shared/spin-lock.ts';
import { AllocationQuota } from '../../src/turn/quota.ts';
import { ChallengeLimiter } from '../../src/turn/challenge-limiter.ts';
import { TurnServer } from '../../src/turn/turn-server.ts';
import { StaticAuthenticator } from '../../src/auth/static-auth.ts';
import { LoggerFactory } from '../../src/log/logger.ts';
import type { RelaySocket } from '../../src/turn/relay.ts';
import type { ListenerConfig } from '../../src/config/types.ts';

export interface WorkerInput {
  readonly state: SharedDataplaneState;
  /** Int32 words: [0] workers at the barrier, [1] 1 = go. */
  readonly barrier: SharedArrayBuffer;
  /** Its id, as worker-pool.ts numbers the dataplane's workers. */
  readonly worker: number;
}

export type Call =
  | { op: 'claim-all'; buffer: SharedArrayBuffer; range: Range; family: 4 | 6; kind: PortPick }
  | { op: 'churn'; buffer: SharedArrayBuffer; range: Range; owners: SharedArrayBuffer; id: number; rounds: number }
  | { op: 'relay-allocate'; listener: Listener; evenPort: boolean; reserveNext: boolean }
  | { op: 'relay-claim'; listener: Listener; token: Uint8Array }
  | { op: 'relay-close-all' }
  | { op: 'quota'; userQuota: number; maxAllocations: number; users: string[] }
  | { op: 'quota-release'; users: string[] }
  | { op: 'challenges'; rate: number; ip: string; now: number; tries: number }
  | { op: 'nonce'; client: string; now: number }
  | { op: 'hold'; listener: Listener; ports: number; reservations: number; users: string[] }
  | { op: 'usage'; users: string[] }
  | { op: 'exit'; code: number }
  | { op: 'throw' }
  | { op: 'exit-holding-quota-lock' }
  | { op: 'exit-holding-bucket'; ip: string; now: number }
  | { op: 'exit-removing-reservation'; listener: Listener; token: Uint8Array }
  | { op: 'quota-churn'; users: string[] };

type Range = readonly [number, number];
type Listener = Pick<ListenerConfig, 'name' | 'min_relay_port' | 'max_relay_port'>;

const input = workerData as WorkerInput;
const state = stateForWorker(input.state, input.worker);
const sync = new Int32Array(input.barrier);
const allocators = new Map<string, UdpRelayAllocator>();
const relays: RelaySocket[] = [];
const quota = new AllocationQuota(0, 0, state.quota, input.worker);
const limiter = new ChallengeLimiter(0, state.challenges, input.worker);
const server = new TurnServer({
  authenticator: new StaticAuthenticator('alice', 'secret', 'shared.test'), realm: 'shared.test',
  limits: { userQuota: 0, maxAllocations: 0, maxPermissionsPerAllocation: 0, maxChannelsPerAllocation: 0, unauthenticatedRate: 0 },
  logger: new LoggerFactory({ levels: 'all:DISABLE' }).get('turn'), shared: state,
});
const tag = holderTag(input.worker);

function atBarrier(): void {
  Atomics.add(sync, 0, 1);
  while (Atomics.load(sync, 1) === 0) Atomics.wait(sync, 1, 0, 50);
}

function allocator(l: Listener): UdpRelayAllocator {
  let a = allocators.get(l.name);
  if (a === undefined) {
    a = new UdpRelayAllocator({
      plan: planRelayAddresses('127.0.0.1'), minPort: l.min_relay_port, maxPort: l.max_relay_port, onError: () => {},
      ...sharedRelays(state, l).udp,
    });
    allocators.set(l.name, a);
  }
  return a;
}

async function run(call: Call): Promise<unknown> {
  switch (call.op) {
    case 'claim-all': {
      const pool = new RelayPortPool(...call.range, call.buffer, input.worker);
      atBarrier();
      const ports: number[] = [];
      for (let p = pool.claim(call.family, call.kind); p !== undefined; p = pool.claim(call.family, call.kind)) ports.push(p);
      return ports;
    }
    case 'churn': {
      const pool = new RelayPortPool(...call.range, call.buffer, input.worker);
      const owners = new Int32Array(call.owners);
      let clashes = 0;
      let claims = 0;
      atBarrier();
      const held: number[] = [];
      for (let i = 0; i < call.rounds; i++) {
        const p = pool.claim(4, i % 3 === 0 ? 'pair' : 'any');
        if (p !== undefined) {
          claims++;
          const ports = i % 3 === 0 ? [p, p + 1] : [p];
          for (const q of ports) if (Atomics.compareExchange(owners, q, 0, call.id) !== 0) clashes++;
          held.push(...ports);
        }
        // Let go of the oldest half now and then, so ports change hands between the workers.
        if (held.length > 8 || p === undefined) {
          for (const q of held.splice(0, held.length >> 1)) {
            Atomics.store(owners, q, 0);
            pool.release(4, q);
          }
        }
      }
      for (const q of held) {
        Atomics.store(owners, q, 0);
        pool.release(4, q);
      }
      return { clashes, claims };
    }
    case 'relay-allocate': {
      const r = await allocator(call.listener).allocate({ family: 4, evenPort: call.evenPort, reserveNext: call.reserveNext });
      if (!r.ok) return { code: r.code };
      relays.push(r.socket);
      const port = r.socket.address.port;
      return r.reservationToken === undefined ? { port } : { port, token: r.reservationToken };
    }
    case 'relay-claim': {
      const socket = await allocator(call.listener).claim(call.token);
      if (socket === undefined) return { port: undefined };
      relays.push(socket);
      return { port: socket.address.port };
    }
    case 'relay-close-all': {
      for (const r of relays.splice(0)) r.close();
      for (const a of allocators.values()) a.close();
      allocators.clear();
      return null;
    }
    case 'quota': {
      quota.userQuota = call.userQuota;
      quota.maxAllocations = call.maxAllocations;
      atBarrier();
      let granted = 0;
      for (const u of call.users) if (quota.acquire(u)) granted++;
      return granted;
    }
    case 'quota-release': {
      for (const u of call.users) quota.release(u);
      return quota.total;
    }
    case 'challenges': {
      limiter.rate = call.rate;
      atBarrier();
      let allowed = 0;
      for (let i = 0; i < call.tries; i++) if (limiter.allow(call.ip, call.now)) allowed++;
      return allowed;
    }
    case 'nonce':
      return server.nonces.issue(call.client, call.now);
    case 'hold': {
      // Relay ports of both kinds, reservations (a pair: one port held, the next reserved) and allocations.
      const { udp, tcp } = sharedRelays(state, call.listener);
      const held = { udp: [] as number[], tcp: [] as number[], reserved: [] as number[], tokens: [] as Uint8Array[] };
      for (let i = 0; i < call.ports; i++) {
        held.udp.push(udp.ports.claim(4)!);
        held.tcp.push(tcp.ports.claim(6)!);
      }
      for (let i = 0; i < call.reservations; i++) {
        const port = udp.ports.claim(4, 'pair')!;
        const token = randomBytes(8);
        if (!udp.reservations.add(token, { family: 4, port: port + 1, expiresAt: Date.now() + 30_000 })) throw new Error('table full');
        held.udp.push(port);
        held.reserved.push(port + 1);
        held.tokens.push(token);
      }
      for (const u of call.users) if (!quota.acquire(u)) throw new Error(`quota refused ${u}`);
      return held;
    }
    case 'usage':
      return { total: quota.total, users: call.users.map((u) => quota.usage(u)) };
    case 'exit':
      // In a worker thread, process.exit() ends the thread: its 'exit' event comes with the code.
      return process.exit(call.code);
    case 'throw':
      setImmediate(() => {
        throw new Error('a dataplane bug');
      });
      return null;
    case 'exit-holding-quota-lock':
      // As if stopped inside acquire(): the counts' lock word names this worker.
      lock(new Int32Array(state.quota), 0, tag);
      return process.exit(1);
    case 'exit-holding-bucket': {
      // As if stopped inside the bucket update of `ip`: its slot's state word names this worker.
      limiter.rate = 1;
      limiter.allow(call.ip, call.now);
      const words = new Int32Array(state.challenges);
      // Slots of 8 words after an 8-word header; the only LIVE one (1) is that bucket's.
      for (let s = 8; s < words.length; s += 8) if (Atomics.compareExchange(words, s, 1, -tag) === 1) break;
      return process.exit(1);
    }
    case 'exit-removing-reservation': {
      // As if stopped inside take(token): the entry's slot is locked by this worker, removing.
      const words = new Int32Array(state.relayPorts.get(call.listener.name)!.reservations);
      const view = new DataView(call.token.buffer, call.token.byteOffset, 8);
      const high = view.getInt32(0);
      const low = view.getInt32(4);
      for (let s = 0; s < words.length; s += 8) {
        if (words[s + 1] === high && words[s + 2] === low && Atomics.compareExchange(words, s, 1, -(tag + 0x10000)) === 1) break;
      }
      return process.exit(1);
    }
    case 'quota-churn': {
      // Until terminate() stops it, at any instruction: inside acquire() or release() as often as not.
      const held: string[] = [];
      for (let i = 0; ; i++) {
        const u = call.users[(i * 7919) % call.users.length];
        if (held.length < 64 && quota.acquire(u)) held.push(u);
        if (held.length > 32) quota.release(held.splice((i * 31) % held.length, 1)[0]);
      }
    }
  }
}

parentPort!.on('message', (msg: { id: number; call: Call }) => {
  run(msg.call).then(
    (result) => parentPort!.postMessage({ id: msg.id, result }),
    (err: Error) => parentPort!.postMessage({ id: msg.id, error: err.stack ?? String(err) }),
  );
});
