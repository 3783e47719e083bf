// Operator-facing telemetry errors: a stable `code` and the variable or config field at fault.

/** A malformed OTEL_* environment variable; thrown at construction so the daemon refuses to start. */
export class TelemetryEnvError extends Error {
  readonly code = 'ERR_OTEL_ENV';
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'TelemetryEnvError';
    this.variable = variable;
  }
}

export const ENDPOINT_ERROR_CODES = {
  url: 'ERR_ENDPOINT_URL',
  bind: 'ERR_ENDPOINT_BIND',
} as const;
export type EndpointErrorCode = (typeof ENDPOINT_ERROR_CODES)[keyof typeof ENDPOINT_ERROR_CODES];

/** An admin HTTP endpoint that cannot be served: a bad URL or an address that cannot be bound. */
export class EndpointError extends Error {
  readonly code: EndpointErrorCode;
  /** The config field, e.g. `admin.metrics_endpoint`. */
  readonly field: string;

  constructor(code: EndpointErrorCode, field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.name = 'EndpointError';
    this.code = code;
    this.field = field;
  }
}
