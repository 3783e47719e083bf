// Bounds that keep slow, idle or half-open clients of TCP, TLS and DTLS listeners from holding memory and
// sockets without limit. Per listener; tests pass smaller values.

export interface StreamLimits {
  /** TLS: a handshake not done by then is dropped (tls.Server handshakeTimeout). */
  readonly handshakeTimeoutMs: number;
  /** A connection without an allocation (and not an RFC 6062 data connection) is closed after this long
   *  without a complete STUN message or ChannelData frame. */
  readonly idleTimeoutMs: number;
  /** Concurrent connections (TLS: including those still in the handshake); more are refused at accept. */
  readonly maxConnections: number;
  /** Above this many bytes queued towards a client, relayed frames (ChannelData, Data indications) are
   *  dropped and counted as rate_limited instead of being buffered. */
  readonly relayQueueBytes: number;
  /** Above this many bytes queued (a client that reads nothing, not even responses) the connection closes. */
  readonly maxQueueBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  maxConnections: 4096,
  relayQueueBytes: 256 * 1024,
  maxQueueBytes: 4 * 1024 * 1024,
};

/** Granularity of the one timer per listener that closes idle connections. */
export const STREAM_SWEEP_INTERVAL_MS = 1000;
