// An operator-facing failure of the gateway to apply a config (a listener that cannot start), with a stable code.
export class GatewayError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
