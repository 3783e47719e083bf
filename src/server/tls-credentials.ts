// The error a TLS listener raises when a new certificate or key cannot be used; the old pair stays in use.
import { X509Certificate, createPrivateKey } from 'node:crypto';

export class TlsCredentialsError extends Error {
  readonly code = 'ERR_TLS_CREDENTIALS';
  /** The offending listener field. */
  readonly field: 'cert' | 'key';

  constructor(listener: string, field: 'cert' | 'key', message: string, options?: ErrorOptions) {
    super(`listener ${listener}: ${field}: ${message}`, options);
    this.field = field;
  }
}

/** Names the field that made `err` (from tls.Server.setSecureContext) happen, by parsing both again. */
export function tlsCredentialsError(listener: string, err: unknown, cert = '', key = ''): TlsCredentialsError {
  const cause = { cause: err };
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    return new TlsCredentialsError(listener, 'cert', 'expected a PEM X.509 certificate', cause);
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key))) {
      return new TlsCredentialsError(listener, 'key', 'does not match the certificate', cause);
    }
  } catch {
    return new TlsCredentialsError(listener, 'key', 'expected an unencrypted PEM private key', cause);
  }
  return new TlsCredentialsError(listener, 'cert', (err as Error).message, cause);
}
