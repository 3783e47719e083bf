// The TURN core's tracer (turn/tracing.ts) on OpenTelemetry: a short SERVER span per answered request, made when
// the answer goes out with the arrival time as its start, and one `turn.allocation` span per ended allocation,
// from its Allocate to its end, made when it ends. No span stays open: an allocation keeps only the context of
// its Allocate span (three strings and a number) and its start time. Attributes are computed only for spans the
// sampler records.
import {
  ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Link, type SpanContext, type Tracer,
} from '@opentelemetry/api';
import { ERROR_REASONS } from '../stun/constants.ts';
import { XorPeerAddress } from '../stun/attributes/address.ts';
import { Username } from '../stun/attributes/text.ts';
import type { RequestMethod } from '../stats/listener-stats.ts';
import type { Allocation } from '../turn/allocation.ts';
import type { ClientLink } from '../turn/client-link.ts';
import type { ListenerContext } from '../turn/listener-context.ts';
import type { Request } from '../turn/request.ts';
import type { TraceRef, TurnTracer } from '../turn/tracing.ts';

export const SPAN_NAMES: Readonly<Record<RequestMethod, string>> = {
  allocate: 'turn.Allocate',
  refresh: 'turn.Refresh',
  create_permission: 'turn.CreatePermission',
  channel_bind: 'turn.ChannelBind',
  binding: 'turn.Binding',
  connect: 'turn.Connect',
  connection_bind: 'turn.ConnectionBind',
};
export const ALLOCATION_SPAN = 'turn.allocation';

/** `turn.allocation.end_reason`: why the core ended an allocation, in a closed set of values. */
export const END_REASONS: Readonly<Record<string, string>> = {
  'refresh lifetime 0': 'deleted',
  expired: 'expired',
  shutdown: 'shutdown',
  'listener stopped': 'listener_removed',
  'association closed': 'transport_closed',
  'connection closed': 'transport_closed',
};

/** The TURN method names of RFC 8656 as the `turn.method` attribute says them. */
const METHOD_NAMES: Readonly<Record<RequestMethod, string>> = {
  allocate: 'Allocate', refresh: 'Refresh', create_permission: 'CreatePermission', channel_bind: 'ChannelBind',
  binding: 'Binding', connect: 'Connect', connection_bind: 'ConnectionBind',
};

/** Requests whose XOR-PEER-ADDRESS names peers, whose clusters the span names. */
const PEER_METHODS: ReadonlySet<RequestMethod> = new Set(['create_permission', 'channel_bind', 'connect']);

export interface TurnTracerOptions {
  readonly recordUsername: boolean;
  readonly traceBinding: boolean;
  readonly worker?: number;
}

export class OtelTurnTracer implements TurnTracer {
  readonly #tracer: Tracer;
  readonly #opts: TurnTracerOptions;

  constructor(tracer: Tracer, opts: TurnTracerOptions) {
    this.#tracer = tracer;
    this.#opts = opts;
  }

  answered(req: Request, code: number, reason: string | undefined, created: Allocation | undefined): TraceRef | undefined {
    if (req.method === 'binding' && !this.#opts.traceBinding) return undefined;
    const parent = req.allocation?.trace;
    const links: Link[] | undefined = parent === undefined ? undefined : [{ context: spanContext(parent) }];
    // performance.now() values are read by the SDK as times relative to the time origin.
    const span = this.#tracer.startSpan(SPAN_NAMES[req.method], {
      kind: SpanKind.SERVER, startTime: req.received, links, root: true,
    }, ROOT_CONTEXT);
    if (span.isRecording()) {
      const a: Attributes = {
        ...connectionAttributes(req.listener, req.link, this.#opts.worker),
        'network.protocol.name': req.method === 'binding' ? 'stun' : 'turn',
        'turn.method': METHOD_NAMES[req.method],
        'turn.response.code': code,
      };
      if (code >= 300) {
        a['error.type'] = String(code);
        a['turn.error.reason'] = reason ?? ERROR_REASONS[code] ?? '';
      }
      if (this.#opts.recordUsername) {
        const user = req.msg.get(Username);
        if (user !== undefined) a['user.name'] = user;
      }
      const allocation = created ?? req.allocation;
      if (allocation !== undefined) a['turn.relayed.address'] = relayedAddresses(allocation);
      if (PEER_METHODS.has(req.method)) Object.assign(a, peerAttributes(req));
      span.setAttributes(a);
      // As for HTTP server spans: a 4xx is the client's error, not the server's; 5xx (500, 508) marks the span failed.
      if (code >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: a['turn.error.reason'] as string });
    }
    span.end();
    return created === undefined ? undefined : traceRef(span.spanContext());
  }

  allocationEnded(allocation: Allocation, reason: string, endedAt: number): TraceRef | undefined {
    const parent = allocation.trace;
    const context = parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, spanContext(parent));
    // The server clock is wall-clock milliseconds (Date.now), as the SDK reads a number past the time origin.
    const span = this.#tracer.startSpan(ALLOCATION_SPAN, {
      kind: SpanKind.INTERNAL, startTime: allocation.createdAt, root: parent === undefined,
    }, context);
    if (!span.isRecording()) {
      span.end(endedAt);
      return undefined;
    }
    const a: Attributes = {
      ...connectionAttributes(allocation.listener, allocation.client, this.#opts.worker),
      'network.protocol.name': 'turn',
      'turn.relayed.address': relayedAddresses(allocation),
      'turn.allocation.end_reason': END_REASONS[reason] ?? 'other',
      'turn.allocation.to_peer.packets': allocation.toPeerPackets,
      'turn.allocation.to_peer.bytes': allocation.toPeerBytes,
      'turn.allocation.from_peer.packets': allocation.fromPeerPackets,
      'turn.allocation.from_peer.bytes': allocation.fromPeerBytes,
      'turn.peer.addresses': allocation.peersSeen,
      'turn.clusters': allocation.clustersSeen,
    };
    if (allocation.peerUnreachable > 0) {
      a['turn.allocation.peer_unreachable'] = allocation.peerUnreachable;
      a['turn.peer.unreachable.addresses'] = allocation.peersUnreachable.map((p) => hostPort(p.address, p.port));
    }
    if (allocation.tcp !== undefined) a['turn.allocation.transport'] = 'tcp';
    if (this.#opts.recordUsername) a['user.name'] = allocation.username;
    span.setAttributes(a);
    span.end(endedAt);
    return traceRef(span.spanContext());
  }
}

function connectionAttributes(listener: ListenerContext, link: ClientLink, worker: number | undefined): Attributes {
  const a: Attributes = {
    'turn.listener': listener.name,
    'turn.transport': link.transport,
    'network.transport': link.transport === 'udp' || link.transport === 'dtls' ? 'udp' : 'tcp',
    'network.type': link.remoteAddress.includes(':') ? 'ipv6' : 'ipv4',
    'client.address': link.remoteAddress,
    'client.port': link.remotePort,
    'network.peer.address': link.remoteAddress,
    'network.peer.port': link.remotePort,
  };
  // Read once: on a UDP listener it asks the socket (a system call).
  const bound = listener.address;
  if (bound !== undefined) {
    a['server.address'] = bound.address;
    a['server.port'] = bound.port;
  }
  if (worker !== undefined) a['turn.worker'] = worker;
  return a;
}

/** The peers a request names and the clusters the listener admits them to (`forbidden` when none does). */
function peerAttributes(req: Request): Attributes {
  const peers = req.msg.getAll(XorPeerAddress) ?? [];
  if (peers.length === 0) return {};
  const tcp = req.method === 'connect' || req.allocation?.tcp !== undefined;
  const clusters = peers.map((p) => {
    const r = req.listener.admission.admit(p.address, tcp ? 'TCP' : undefined);
    return typeof r === 'string' ? r : r.stats.cluster;
  });
  const a: Attributes = {
    'turn.peer.addresses': peers.map((p) => p.address),
    'turn.cluster': [...new Set(clusters)].join(','),
  };
  if (peers.length === 1) {
    a['turn.peer.address'] = peers[0].address;
    a['turn.peer.port'] = peers[0].port;
  }
  return a;
}

function relayedAddresses(allocation: Allocation): string[] {
  const out = allocation.relays.map((r) => hostPort(r.address.address, r.address.port));
  const tcp = allocation.tcp?.relay.address;
  if (tcp !== undefined) out.push(hostPort(tcp.address, tcp.port));
  return out;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function spanContext(ref: TraceRef): SpanContext {
  return { traceId: ref.traceId, spanId: ref.spanId, traceFlags: ref.traceFlags, isRemote: false };
}

function traceRef(c: SpanContext): TraceRef {
  return { traceId: c.traceId, spanId: c.spanId, traceFlags: c.traceFlags };
}
