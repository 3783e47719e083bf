// A worker thread for the shared-state tests: it builds dataplane pieces (port pools, relay allocators, quota,
// challenge limiter, TurnServer) on the SharedDataplaneState it is given and runs what the test asks, one
// call at a time. Races start together: each call waits at the barrier (workers.ts) when it is given one.
import { parentPort, workerData } from 'node:worker_threads';
import { RelayPortPool, type PortPick } from '../../src/server/port-pool.ts';
import { planRelayAddresses } from '../../src/server/relay-address.ts';
import { UdpRelayAllocator } from '../../src/server/udp-relay.ts';
import { sharedRelays, type SharedDataplaneState } from '../../src/shared/dataplane-state.ts';
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
  | { op: 'nonce'; client: string; now: number };

type Range = readonly [number, number];
type Listener = Pick<ListenerConfig, 'name' | 'min_relay_port' | 'max_relay_port'>;

const { state, barrier } = workerData as WorkerInput;
const sync = new Int32Array(barrier);
const allocators = new Map<string, UdpRelayAllocator>();
const relays: RelaySocket[] = [];
const quota = new AllocationQuota(0, 0, state.quota);
const limiter = new ChallengeLimiter(0, state.challenges);
const server = new TurnServer({
  authenticator: new StaticAuthenticator('alice', 'secret', 'shared.test'), realm: 'shared.test',
  limits: { userQuota: 0, maxAllocations: 0, maxPermissionsPerAllocation: 0, maxChannelsPerAllocation: 0, unauthenticatedRate: 0 },
  logger: new LoggerFactory({ levels: 'all:DISABLE' }).get('turn'), shared: state,
});

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
      const pool = new RelayPortPool(...call.range, call.buffer);
      atBarrier();
      const ports: number[] = [];
      for (let p = pool.claim(call.family, call.kind); p !== undefined; p = pool.claim(call.family, call.kind)) ports.push(p);
      return ports;
    }
    case 'churn': {
      const pool = new RelayPortPool(...call.range, call.buffer);
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
  }
}

parentPort!.on('message', (msg: { id: number; call: Call }) => {
  run(msg.call).then(
    (result) => parentPort!.postMessage({ id: msg.id, result }),
    (err: Error) => parentPort!.postMessage({ id: msg.id, error: err.stack ?? String(err) }),
  );
});
