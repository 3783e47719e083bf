// The certificate and key of a TLS listener, checked before they replace the running pair: OpenSSL itself
// accepts a certificate that does not match the key (it silently drops the key, and later handshakes fail).
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

/** Throws TlsCredentialsError naming the field unless `cert` is a PEM certificate and `key` its private key. */
export function checkTlsCredentials(listener: string, cert: string, key: string): void {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsCredentialsError(listener, 'cert', 'expected a PEM X.509 certificate', { cause: err });
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new TlsCredentialsError(listener, 'key', 'expected an unencrypted PEM private key', { cause: err });
  }
  if (!matches) throw new TlsCredentialsError(listener, 'key', 'does not match the certificate');
}
