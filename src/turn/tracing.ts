// What the TURN core tells a tracer, and what it keeps of a trace: the core never imports OpenTelemetry
// (telemetry/turn-tracer.ts implements this). Called once per answered request and once per ended allocation,
// never per packet.
import type { Allocation } from './allocation.ts';
import type { Request } from './request.ts';

/** A span's identity as the core keeps it on an allocation: three plain fields, never a live span. */
export interface TraceRef {
  readonly traceId: string;
  readonly spanId: string;
  /** W3C trace flags; bit 0 = sampled. */
  readonly traceFlags: number;
}

export interface TurnTracer {
  /**
   * `req` was answered with `code` (200 = success) and `reason` (an ERROR-CODE reason other than the standard
   * phrase). `created` is the allocation a successful Allocate made. Returns the request span's context for
   * `created` to keep (later requests link to it, its allocation span is its child).
   */
  answered(req: Request, code: number, reason: string | undefined, created: Allocation | undefined): TraceRef | undefined;
  /**
   * An active allocation ended at `endedAt` (the server clock) for `reason`. Returns the allocation span's
   * context when it was sampled: the exemplar of its allocation-duration observation.
   */
  allocationEnded(allocation: Allocation, reason: string, endedAt: number): TraceRef | undefined;
}
