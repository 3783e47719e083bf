// Routes OpenTelemetry's internal diagnostics (diag) and its global error handler to our logger, at WARN and above,
// rate-limited: a collector that is down must not turn every export attempt into log lines.
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import type { Logger, RateLimitedLog } from '../log/logger.ts';

/** The reader re-reports a failed export this way; ReportingExporter (push.ts) has logged it with context. */
const REPORTED_EXPORT_FAILURE = 'metrics export failed';

export function installOtelDiagnostics(logger: Logger, rateLimit: RateLimitedLog): () => void {
  const emit = (level: 'error' | 'warn', message: string, args: unknown[]): void => {
    const key = `diag:${message.slice(0, 60)}`;
    const fields = args.length > 0 ? { detail: args.map(describe).join(' ') } : undefined;
    if (level === 'error') {
      if (rateLimit.admit(key) >= 0) logger.error(`opentelemetry: ${message}`, fields);
    } else {
      rateLimit.warn(logger, key, `opentelemetry: ${message}`, fields);
    }
  };
  const sink: DiagLogger = {
    error: (message, ...args) => emit('error', message, args),
    warn: (message, ...args) => emit('warn', message, args),
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
