// Every default of the stunnerd config, in one place (as upstream's pkg/apis/v1/default.go).

export const DEFAULT_VERSION = 'v1';
export const DEFAULT_ADMIN_NAME = 'default-stunnerd';
export const DEFAULT_LOGLEVEL = 'all:INFO';
export const DEFAULT_METRICS_ENDPOINT = '';
export const DEFAULT_HEALTHCHECK_ENDPOINT = 'http://:8086';
export const DEFAULT_METRICS_PORT = 8080;
export const DEFAULT_METRICS_PATH = '/metrics';
export const DEFAULT_HEALTHCHECK_PORT = 8086;
export const DEFAULT_REALM = 'stunner.l7mp.io';
export const DEFAULT_AUTH_TYPE = 'static';
export const DEFAULT_LISTENER_PROTOCOL = 'TURN-UDP';
export const DEFAULT_LISTENER_ADDRESS = '0.0.0.0';
export const DEFAULT_PORT = 3478;
export const DEFAULT_TLS_PORT = 443;
export const DEFAULT_CLUSTER_TYPE = 'STATIC';
export const DEFAULT_CLUSTER_PROTOCOL = 'UDP';

export const DEFAULT_MAX_ALLOCATIONS = 0;
export const DEFAULT_MAX_PERMISSIONS_PER_ALLOCATION = 64;
export const DEFAULT_MAX_CHANNELS_PER_ALLOCATION = 64;
/** 401/438 answers per second per client IP: generous for offices behind one NAT, yet no reflector. */
export const DEFAULT_UNAUTHENTICATED_RATE = 100;
export const DEFAULT_DRAIN_TIMEOUT = 3600;

/** STRICT_DNS clusters are re-resolved this often. */
export const DNS_REFRESH_INTERVAL_MS = 5000;
