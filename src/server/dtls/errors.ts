// Operator-facing errors of the DTLS server: a stable `code` and the option or field at fault.

export const DtlsErrorCode = {
  /** The certificate is not a PEM X.509 certificate. */
  badCertificate: 'ERR_DTLS_CERTIFICATE',
  /** The private key is not a PEM private key. */
  badKey: 'ERR_DTLS_KEY',
  /** The key is of a type DTLS cannot use here (only RSA and ECDSA). */
  keyType: 'ERR_DTLS_KEY_TYPE',
  /** The key does not belong to the certificate. */
  keyMismatch: 'ERR_DTLS_KEY_MISMATCH',
  /** A numeric or address option is out of range. */
  badOption: 'ERR_DTLS_OPTION',
  /** send() was given more than one record can carry. */
  messageTooLarge: 'ERR_DTLS_MESSAGE_TOO_LARGE',
  /** The installed werift-dtls is not the version, or lacks the internals, this server is written against. */
  dependency: 'ERR_DTLS_DEPENDENCY',
  /** A handshake failed or was abandoned (per association; never thrown by the server). */
  handshake: 'ERR_DTLS_HANDSHAKE',
} as const;
export type DtlsErrorCode = (typeof DtlsErrorCode)[keyof typeof DtlsErrorCode];

export class DtlsError extends Error {
  readonly code: DtlsErrorCode;
  /** The option or field at fault, e.g. `cert`, `key`, `handshakeTimeoutMs`. */
  readonly field: string | undefined;

  constructor(code: DtlsErrorCode, message: string, field?: string, options?: ErrorOptions) {
    super(field === undefined ? message : `${field}: ${message}`, options);
    this.name = 'DtlsError';
    this.code = code;
    this.field = field;
  }
}
