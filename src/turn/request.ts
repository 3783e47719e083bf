// One STUN request being answered: where it came from, and how to answer it (RFC 8489 §6.3).
import { MessageClass } from '../stun/constants.ts';
import { ErrorCode, errorCode } from '../stun/attributes/errors.ts';
import type { StunMessage } from '../stun/message.ts';
import { StunWriter } from '../stun/writer.ts';
import type { IntegrityKey } from '../stun/integrity.ts';
import type { RequestMethod } from '../stats/listener-stats.ts';
import type { Allocation } from './allocation.ts';
import type { ClientLink } from './client-link.ts';
import type { ListenerContext } from './listener-context.ts';
import type { TurnTracer } from './tracing.ts';

export interface Request {
  readonly listener: ListenerContext;
  readonly link: ClientLink;
  readonly msg: StunMessage;
  /** The allocation of the client's 5-tuple, if one exists. */
  readonly allocation: Allocation | undefined;
  /** The `method` label of stunner_requests_total. */
  readonly method: RequestMethod;
  readonly now: number;
  /** performance.now() when the request arrived: the start of its span. */
  readonly received: number;
  /** Told of the answer; absent when tracing is off. */
  readonly tracer: TurnTracer | undefined;
}

export interface ReplyOptions {
  /** Adds MESSAGE-INTEGRITY with this key (authenticated responses). */
  readonly key?: IntegrityKey;
  /** Adds the attributes specific to the response. */
  readonly build?: (w: StunWriter) => void;
  readonly reason?: string;
  /** Count it in stunner_requests_total (default true). */
  readonly count?: boolean;
  /** The allocation a successful Allocate created: it keeps the request's trace context. */
  readonly created?: Allocation;
}

/** Answers `req` with `code` (200 = success) and counts it in stunner_requests_total. */
export function reply(req: Request, code: number, opts: ReplyOptions = {}): void {
  replyKept(req, code, opts);
}

/** As `reply`, returning the bytes sent (kept to answer retransmissions). */
export function replyKept(req: Request, code: number, opts: ReplyOptions = {}): Buffer {
  const { msg } = req;
  const success = code === 200;
  const w = new StunWriter(msg.method, success ? MessageClass.successResponse : MessageClass.errorResponse,
    msg.transactionId);
  if (!success) w.add(ErrorCode, errorCode(code, opts.reason));
  opts.build?.(w);
  if (opts.key !== undefined) w.addMessageIntegrity(opts.key);
  // RFC 8489 §7.3: a response carries FINGERPRINT when the request did (agents that use it expect it).
  if (msg.fingerprintOffset >= 0) w.addFingerprint();
  const out = w.finish();
  // Counted before the answer leaves (a worker's stripe is read by the main thread at any moment): a client that
  // has its answer and then scrapes finds the request counted.
  if (opts.count !== false) req.listener.stats.countRequest(req.method, code);
  req.link.send(out);
  if (req.tracer !== undefined) {
    const trace = req.tracer.answered(req, code, opts.reason, opts.created);
    if (opts.created !== undefined) opts.created.trace = trace;
  }
  return out;
}
