// Spans of OTLP/JSON trace requests (ExportTraceServiceRequest), flattened, with attributes as plain values.
import type { KeyValue } from '../../telemetry/helpers/otlp-receiver.ts';

export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes?: KeyValue[];
  readonly links?: { traceId: string; spanId: string }[];
  readonly status?: { code?: number; message?: string };
}

interface ArrayValue { readonly arrayValue?: { values?: KeyValue['value'][] } }

/** Every span of one request body. */
export function spansOf(body: unknown): OtlpSpan[] {
  const b = body as { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] };
  return (b.resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => s.spans ?? []));
}

type Plain = string | number | boolean | Plain[] | undefined;

function plain(v: KeyValue['value'] & ArrayValue): Plain {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map((x) => plain(x));
  return undefined;
}

export function spanAttributes(s: OtlpSpan): Record<string, Plain> {
  return Object.fromEntries((s.attributes ?? []).map((a) => [a.key, plain(a.value)]));
}
