// Routes OpenTelemetry's internal diagnostics (diag) and its global error handler to our logger, at WARN and above,
// rate-limited: a collector that is down must not turn every export attempt into log lines.
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import type { Logger, RateLimitedLog } from '../log/logger.ts';

/** The reader re-reports a failed export this way; ReportingExporter (push.ts) has logged it with context. */
const REPORTED_EXPORT_FAILURE = 'metrics export failed';

export function installOtelDiagnostics(logger: Logger, rateLimit: RateLimitedLog): () => void {
  // Both diag levels become rate-limited WARN lines: what the SDK reports (a timed-out export, a collection
  // error) degrades telemetry, never the gateway.
  const emit = (message: string, args: unknown[]): void => {
    const fields = args.length > 0 ? { detail: args.map(describe).join(' ') } : undefined;
    rateLimit.warn(logger, `diag:${message.slice(0, 60)}`, `opentelemetry: ${message}`, fields);
  };
  const sink: DiagLogger = {
    error: (message, ...args) => emit(message, args),
    warn: (message, ...args) => emit(message, args),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(sink, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  setGlobalErrorHandler((err) => {
    const message = err instanceof Error ? err.message : String(err);
    if (message.includes(REPORTED_EXPORT_FAILURE)) return;
    rateLimit.warn(logger, `otel-error:${message.slice(0, 60)}`, 'opentelemetry error', { error: message });
  });
  return () => {
    diag.disable();
    setGlobalErrorHandler(loggingErrorHandler());
  };
}

function describe(v: unknown): string {
  if (v instanceof Error) return v.message;
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
