// The TURN control plane (RFC 8656) over any transport: decodes requests, authenticates them, and keeps the
// allocations. It does no I/O of its own: clients are reached through ClientLinks, relays through the
// listener's RelayAllocator, and time comes from an injected clock, so it is tested without sockets.
import { Method, MessageClass } from '../stun/constants.ts';
import { Nonce, Realm, Username } from '../stun/attributes/text.ts';
import { UnknownAttributes } from '../stun/attributes/errors.ts';
import { decodeStun, type StunMessage } from '../stun/message.ts';
import { verifyMessageIntegrity } from '../stun/integrity.ts';
import { DROP, type RequestMethod } from '../stats/listener-stats.ts';
import type { Authenticator, Credential } from '../auth/authenticator.ts';
import { RateLimitedLog, type Logger } from '../log/logger.ts';
import type { Allocation, AllocationLimits } from './allocation.ts';
import type { ClientLink } from './client-link.ts';
import type { ListenerContext } from './listener-context.ts';
import { NonceIssuer } from './nonce.ts';
import { AllocationQuota } from './quota.ts';
import { ChallengeLimiter } from './challenge-limiter.ts';
import { reply, type Request } from './request.ts';
import { handleAllocate } from './handlers/allocate.ts';
import { handleRefresh } from './handlers/refresh.ts';
import { handleCreatePermission } from './handlers/create-permission.ts';
import { handleChannelBind } from './handlers/channel-bind.ts';
import { handleSendIndication } from './handlers/send.ts';
import { handleBinding } from './handlers/binding.ts';
import { handleConnect } from './handlers/connect.ts';
import { handleConnectionBind } from './handlers/connection-bind.ts';
import type { RelaySocket } from './relay.ts';
import type { TcpAllocation } from './tcp-allocation.ts';
import type { TurnTracer } from './tracing.ts';
import { TcpConnectionTable } from './tcp-connections.ts';

export interface TurnLimits extends AllocationLimits {
  readonly userQuota: number;
  readonly maxAllocations: number;
  /** 401/438 answers per second per client IP; 0 = unlimited. */
  readonly unauthenticatedRate: number;
}

/** What a reconfiguration changes live (TurnServer.update). */
export interface TurnSettings {
  readonly authenticator: Authenticator;
  readonly realm: string;
  readonly limits: TurnLimits;
}

/**
 * What the TurnServers of every worker thread share (src/shared/dataplane-state.ts builds it); each piece
 * absent = this server's own, as single-threaded.
 */
export interface TurnSharedState {
  /** AllocationQuota's counts (SharedUserCounts.createBuffer()): max_allocations and user_quota hold across workers. */
  readonly quota?: SharedArrayBuffer;
  /** ChallengeLimiter's buckets (SharedTokenBuckets.createBuffer()): one 401/438 budget per IP across workers. */
  readonly challenges?: SharedArrayBuffer;
  /** The NONCE key: a nonce one worker issued verifies on every other. */
  readonly nonceSecret?: Uint8Array;
  /** This worker's id: what it holds in the quota and challenge tables is tagged with it, so the main thread
   *  can give it back when the worker dies (releaseWorkerHoldings). */
  readonly worker?: number;
}

export interface TurnServerOptions extends TurnSettings {
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly shared?: TurnSharedState;
}

/** Hooks for code that observes allocation lifecycles (logging, /status); not called per packet. */
export interface AllocationEvents {
  onAllocationCreated?(allocation: Allocation): void;
  onAllocationDeleted?(allocation: Allocation, reason: string): void;
}

const METHODS: Readonly<Record<number, RequestMethod>> = {
  [Method.binding]: 'binding',
  [Method.allocate]: 'allocate',
  [Method.refresh]: 'refresh',
  [Method.createPermission]: 'create_permission',
  [Method.channelBind]: 'channel_bind',
  [Method.connect]: 'connect',
  [Method.connectionBind]: 'connection_bind',
};

export class TurnServer {
  readonly clock: () => number;
  readonly log: Logger;
  /** Warnings that a client can provoke repeatedly go through here (one per key per 10 s). */
  readonly warnings = new RateLimitedLog();
  readonly nonces: NonceIssuer;
  readonly quota: AllocationQuota;
  readonly challenges: ChallengeLimiter;
  readonly #allocations = new Set<Allocation>();
  /** Peer data connections of TCP allocations (RFC 6062), by CONNECTION-ID. */
  readonly tcpConnections = new TcpConnectionTable();
  #authenticator: Authenticator;
  #realm: string;
  #limits: TurnLimits;
  /** While draining (SIGTERM) new allocations are refused; existing ones keep relaying. */
  draining = false;
  events: AllocationEvents = {};
  /** Records a span per answered request and per ended allocation; undefined = tracing off. */
  tracer: TurnTracer | undefined = undefined;

  constructor(opts: TurnServerOptions) {
    this.clock = opts.clock ?? Date.now;
    this.log = opts.logger;
    this.#authenticator = opts.authenticator;
    this.#realm = opts.realm;
    this.#limits = opts.limits;
    const shared = opts.shared ?? {};
    this.nonces = new NonceIssuer(undefined, shared.nonceSecret);
    this.quota = new AllocationQuota(opts.limits.userQuota, opts.limits.maxAllocations, shared.quota, shared.worker);
    this.challenges = new ChallengeLimiter(opts.limits.unauthenticatedRate, shared.challenges, shared.worker);
  }

  /** Added by addAllocation, removed by deleteAllocation. */
  get allocations(): ReadonlySet<Allocation> {
    return this.#allocations;
  }

  get authenticator(): Authenticator {
    return this.#authenticator;
  }

  /** The REALM of 401 and 438 challenges. */
  get realm(): string {
    return this.#realm;
  }

  get limits(): TurnLimits {
    return this.#limits;
  }

  /** Applies live-reconfigurable settings (credentials, realm, quotas, limits); allocations are kept. */
  update(settings: TurnSettings): void {
    const { limits } = settings;
    this.#authenticator = settings.authenticator;
    this.#realm = settings.realm;
    this.#limits = limits;
    this.quota.userQuota = limits.userQuota;
    this.quota.maxAllocations = limits.maxAllocations;
    this.challenges.rate = limits.unauthenticatedRate;
  }

  /**
   * A STUN message (not ChannelData) from a client. `allocation` is the one of the client's 5-tuple, as
   * the adapter found it. Listener rx was counted by the adapter.
   */
  handleStun(listener: ListenerContext, link: ClientLink, buf: Buffer, allocation: Allocation | undefined): void {
    const decoded = decodeStun(buf);
    if (!decoded.ok) {
      listener.stats.drops[DROP.malformed]++;
      const msg = decoded.message;
      if (msg === undefined || msg.cls !== MessageClass.request) return;
      const method = METHODS[msg.method];
      if (method === undefined) return;
      const req: Request = { listener, link, msg, allocation, method, now: this.clock(),
        received: performance.now(), tracer: this.tracer };
      if (!this.admitUnauthenticated(req)) return;
      // RFC 8489 §6.3.1.1: unknown comprehension-required attributes get 420 listing them.
      if (decoded.reason === 'unknown-attributes') {
        reply(req, 420, { build: (w) => w.add(UnknownAttributes, decoded.unknown ?? []) });
      } else if (decoded.reason === 'bad-attribute') {
        reply(req, 400);
      }
      // A bad FINGERPRINT means it is not STUN at all (§7.3): silently discarded.
      return;
    }
    const msg = decoded.message;
    if (msg.cls === MessageClass.indication) {
      if (msg.method === Method.send) handleSendIndication(this, listener, msg, allocation);
      return;
    }
    if (msg.cls !== MessageClass.request) return;
    const method = METHODS[msg.method];
    if (method === undefined) {
      // An unknown method is answered 400 (not counted: the `method` label set is closed).
      const req: Request = { listener, link, msg, allocation, method: 'binding', now: this.clock(),
        received: performance.now(), tracer: this.tracer };
      if (this.admitUnauthenticated(req)) reply(req, 400, { count: false });
      return;
    }
    const req: Request = { listener, link, msg, allocation, method, now: this.clock(),
        received: performance.now(), tracer: this.tracer };
    switch (msg.method) {
      case Method.binding: return void (this.admitUnauthenticated(req) && handleBinding(req));
      case Method.allocate: return void handleAllocate(this, req);
      case Method.refresh: return handleRefresh(this, req);
      case Method.createPermission: return handleCreatePermission(this, req);
      case Method.channelBind: return handleChannelBind(this, req);
      case Method.connect: return void handleConnect(this, req);
      case Method.connectionBind: return handleConnectionBind(this, req);
      default:
        reply(req, 400);
    }
  }

  /**
   * RFC 8489 §9.2.4, the long-term credential checks, in the RFC's order. Returns the credential, or
   * undefined after answering the request with the error.
   */
  authenticate(req: Request): Credential | undefined {
    const { msg, link } = req;
    // 1. "If the message does not contain a MESSAGE-INTEGRITY ... attribute, the server MUST generate an
    //    error response with an error code of 401 (Unauthenticated)" with REALM and NONCE.
    if (msg.integrityOffset < 0) return this.#challenge(req, 401);
    // 2. "If the message contains a MESSAGE-INTEGRITY ... attribute, but is missing either the USERNAME or
    //    USERHASH, REALM, or NONCE attribute, the server MUST generate ... 400 (Bad Request)."
    const username = msg.get(Username);
    const realm = msg.get(Realm);
    const nonce = msg.get(Nonce);
    if (username === undefined || realm === undefined || nonce === undefined) {
      if (this.admitUnauthenticated(req)) reply(req, 400);
      return undefined;
    }
    // 3. "If the NONCE is no longer valid, the server MUST generate ... 438 (Stale Nonce)."
    if (this.nonces.check(nonce, link.remoteAddress, req.now) !== 'valid') return this.#challenge(req, 438);
    // 4. "If the username ... does not contain a valid username ... 401 (Unauthenticated)."
    const cred = this.#authenticator.authenticate(username, realm);
    if (typeof cred === 'string') {
      this.log.debug('authentication failed', { listener: req.listener.name, client: link.remoteAddress, why: cred });
      return this.#challenge(req, 401);
    }
    // 5. "Using the password associated with the username ... compute the value for the message integrity
    //    ... If the resulting value does not match ... 401 (Unauthenticated)."
    if (!verifyMessageIntegrity(msg, cred.key)) {
      this.log.debug('message integrity check failed', { listener: req.listener.name, client: link.remoteAddress });
      return this.#challenge(req, 401);
    }
    // RFC 8656 §8.2, §10.2, §12.2: requests on an allocation must use the username that created it.
    if (req.allocation !== undefined && req.allocation.username !== username) {
      reply(req, 441, { key: cred.key });
      return undefined;
    }
    return cred;
  }

  /**
   * Whether a request that has not authenticated may be answered: always from a 5-tuple with an allocation,
   * else within the per-source budget of unauthenticated answers (admin.limits.unauthenticated_rate), which
   * 401/438 challenges, 400/420 errors and Binding responses share. Beyond it the request is dropped and
   * counted rate_limited: forged sources cannot use the gateway as a reflector, and a flood costs no sends.
   */
  admitUnauthenticated(req: Request): boolean {
    if (req.allocation !== undefined || this.challenges.allow(req.link.remoteAddress, req.now)) return true;
    req.listener.stats.drops[DROP.rate_limited]++;
    return false;
  }

  /** 401/438 with REALM and a fresh NONCE, within the per-source budget (else silently dropped). */
  #challenge(req: Request, code: 401 | 438): undefined {
    if (!this.admitUnauthenticated(req)) return undefined;
    const nonce = this.nonces.issue(req.link.remoteAddress, req.now);
    reply(req, code, { build: (w) => w.add(Realm, this.#realm).add(Nonce, nonce) });
    return undefined;
  }

  /** Registers a new allocation (pending until its relay socket is bound). */
  addAllocation(a: Allocation): void {
    this.#allocations.add(a);
    a.listener.attach(a);
  }

  /**
   * The allocation's relayed address(es) are bound (`relays`, or `tcp` for RFC 6062): it starts relaying and is
   * counted. Nothing happens if it was deleted in the meantime.
   */
  activate(a: Allocation, relays: readonly RelaySocket[], tcp?: TcpAllocation): void {
    if (!a.activate(relays, tcp)) return;
    a.listener.stats.allocationsActive++;
    a.listener.activated?.(a);
    this.events.onAllocationCreated?.(a);
  }

  /** Ends an allocation: closes its relays and permissions, records its lifetime. */
  deleteAllocation(a: Allocation, reason: string): void {
    const was = a.close();
    if (was === 'closed') return;
    this.#allocations.delete(a);
    a.listener.detach(a);
    this.quota.release(a.userId);
    if (was === 'active') {
      a.listener.stats.allocationsActive--;
      const now = this.clock();
      const span = this.tracer?.allocationEnded(a, reason, now);
      a.listener.stats.allocationDuration.record((now - a.createdAt) / 1000, span);
      this.events.onAllocationDeleted?.(a, reason);
    }
  }

  /** The one coarse timer: expires allocations, permissions and channel bindings (RFC 8656 §7, §9, §12). */
  sweep(): void {
    const now = this.clock();
    for (const a of this.#allocations) {
      if (a.expire(now)) this.deleteAllocation(a, 'expired');
    }
    this.tcpConnections.sweep(now);
    this.challenges.prune(now);
  }

  /** After a reconfiguration: re-decide every permission's cluster, so a peer no longer admitted stops at once. */
  readmitAll(listener: ListenerContext): void {
    for (const a of this.#allocations) {
      if (a.listener !== listener) continue;
      const protocol = a.tcp === undefined ? 'UDP' : 'TCP';
      for (const p of a.permissions.values()) {
        const r = listener.admission.admit(p.peer, protocol);
        p.readmit(typeof r === 'string' ? undefined : r);
      }
      for (const c of a.tcp?.connections.values() ?? []) {
        const r = listener.admission.admit(c.peerAddress, 'TCP');
        c.readmit(typeof r === 'string' ? undefined : r);
      }
    }
  }

  /** Ends every allocation (shutdown). */
  close(): void {
    for (const a of [...this.#allocations]) this.deleteAllocation(a, 'shutdown');
  }
}

/** The transaction id as a map key. */
export function transactionKey(msg: StunMessage): string {
  return Buffer.from(msg.transactionId).toString('hex');
}
