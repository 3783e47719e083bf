// Plain counters of one DTLS server, read at collection time (docs/style.md 6: no telemetry calls here).

export class DtlsServerStats {
  /** HelloVerifyRequests sent: one per ClientHello without a valid cookie. No state is kept for them. */
  helloVerifyRequests = 0;
  /** ClientHellos whose cookie did not verify (stale, forged, or from another address). */
  badCookies = 0;
  handshakesStarted = 0;
  handshakesCompleted = 0;
  /** Refused because maxHandshakes were already in progress (the client retransmits later). */
  handshakesRejected = 0;
  handshakesFailed = 0;
  handshakesTimedOut = 0;
  /** Handshakes the client aborted with an alert. */
  handshakesAborted = 0;
  associationsClosed = 0;
  associationsIdleClosed = 0;
  /** Datagrams that were not DTLS records, or records for no association and not a ClientHello. */
  malformedDatagrams = 0;
  /** Records that failed authentication (RFC 6347 §4.1.2.7: silently discarded). */
  decryptFailures = 0;
  /** Records dropped by the anti-replay window (RFC 6347 §4.1.2.6). */
  replayedRecords = 0;
  /** Exceptions caught while handling a datagram, including ones thrown by 'message' listeners. */
  internalErrors = 0;
}
