// The stunnerd config, API v1, after validation: every field present, normalised, frozen.
// Field names follow the file format (docs/config.md) so error paths and printed configs match what users wrote.

export const LISTENER_PROTOCOLS = ['TURN-UDP', 'TURN-TCP', 'TURN-TLS', 'TURN-DTLS'] as const;
export type ListenerProtocol = (typeof LISTENER_PROTOCOLS)[number];

export const CLUSTER_TYPES = ['STATIC', 'STRICT_DNS'] as const;
export type ClusterType = (typeof CLUSTER_TYPES)[number];

export const CLUSTER_PROTOCOLS = ['UDP', 'TCP'] as const;
export type ClusterProtocol = (typeof CLUSTER_PROTOCOLS)[number];

/** `none`: upstream's STUN-only mode (Binding answered, every TURN request refused). */
export const AUTH_TYPES = ['static', 'ephemeral', 'none'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

export interface AdminConfig {
  readonly name: string;
  readonly loglevel: string;
  /** "" = no metrics server. */
  readonly metrics_endpoint: string;
  /** "" = no health server. */
  readonly healthcheck_endpoint: string;
  /** Max allocations per user id; 0 = unlimited. */
  readonly user_quota: number;
  /** Extensions beyond upstream stunnerd; all optional in the file. */
  readonly limits: LimitsConfig;
}

/** Limits a production gateway needs that upstream stunnerd does not configure. 0 = unlimited. */
export interface LimitsConfig {
  /** Allocations across all listeners; a new one beyond it is answered 486. */
  readonly max_allocations: number;
  readonly max_permissions_per_allocation: number;
  readonly max_channels_per_allocation: number;
  /** 401 challenges per client IP per second; beyond it requests are dropped silently. */
  readonly unauthenticated_rate: number;
  /** Seconds a SIGTERM waits for allocations to end before exiting. */
  readonly drain_timeout: number;
}

export interface AuthConfig {
  readonly type: AuthType;
  readonly realm: string;
  /** static: username, password; ephemeral: secret; none: empty. */
  readonly credentials: Readonly<Record<string, string>>;
}

export interface ListenerConfig {
  readonly name: string;
  readonly protocol: ListenerProtocol;
  /** Bind and relay address. */
  readonly address: string;
  readonly port: number;
  readonly public_address: string;
  readonly public_port: number;
  /** Relay port range for this listener's allocations; 0..0 = any ephemeral port. */
  readonly min_relay_port: number;
  readonly max_relay_port: number;
  /** PEM text (decoded from the file's base64), TLS/DTLS only. */
  readonly cert: string;
  readonly key: string;
  readonly routes: readonly string[];
}

export interface ClusterConfig {
  readonly name: string;
  readonly type: ClusterType;
  readonly protocol: ClusterProtocol;
  readonly endpoints: readonly string[];
}

export interface StunnerConfig {
  readonly version: 'v1';
  readonly admin: AdminConfig;
  readonly auth: AuthConfig;
  readonly listeners: readonly ListenerConfig[];
  readonly clusters: readonly ClusterConfig[];
}
