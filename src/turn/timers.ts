// Lifetimes of TURN state, RFC 8656.

/** §3.2 / §7.2: "the default lifetime of an allocation is 10 minutes". */
export const DEFAULT_ALLOCATION_LIFETIME_S = 600;
/** The largest lifetime we grant (coturn's and pion's default maximum). */
export const MAX_ALLOCATION_LIFETIME_S = 3600;
/** §9: "The Permission Lifetime MUST be 300 seconds (= 5 minutes)." */
export const PERMISSION_LIFETIME_S = 300;
/** §12: "A channel binding lasts for 10 minutes unless refreshed." */
export const CHANNEL_LIFETIME_S = 600;
/** §12: "the client MUST wait 5 minutes after the channel binding expires" before rebinding; the server holds it. */
export const CHANNEL_COOLDOWN_S = 300;
/** §7.2: for a RESERVATION-TOKEN, "The server MUST hold this reservation for at least 30 seconds". */
export const RESERVATION_LIFETIME_S = 30;
/** How long a NONCE stays fresh before it is answered with 438 Stale Nonce. */
export const NONCE_LIFETIME_S = 600;
/** Granularity of the one shared timer that sweeps expired state. */
export const SWEEP_INTERVAL_MS = 1000;

/**
 * §7.2 / §8.2: the client's LIFETIME is honoured within [default, max]; a smaller value gets the
 * default ("If the value ... is less than the default ... the server uses the default"), a larger one max.
 */
export function grantLifetime(requested: number | undefined, refresh = false): number {
  if (requested === undefined) return DEFAULT_ALLOCATION_LIFETIME_S;
  if (refresh && requested === 0) return 0;
  return Math.min(Math.max(requested, DEFAULT_ALLOCATION_LIFETIME_S), MAX_ALLOCATION_LIFETIME_S);
}
