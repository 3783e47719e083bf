// The config module's public API, for the daemon and telemetry.

export { CONFIG_ERROR_CODES, ConfigError, formatProblem } from './errors.ts';
export type { ConfigErrorCode, ConfigProblem } from './errors.ts';
export { checkConfig, validateConfig } from './validate.ts';
export type { CheckedConfig } from './validate.ts';
export { expandConfigEnv, expandString } from './env.ts';
export type { Environment } from './env.ts';
export { CONFIGMAP_KEY, loadConfigFile, loadConfigText } from './load.ts';
export type { LoadedConfig, LoadOptions } from './load.ts';
export { renderKubernetes, STUNNER_CONTROLLER_NAME } from './k8s/render.ts';
export type { RenderedConfig, RenderOptions } from './k8s/render.ts';
export { inspectConfig } from './diff.ts';
export type { AdminPlan, ListenerAction, ClusterAction, AuthAction, AdminAction, ServerAction, ObjectChange, ReconcilePlan } from './diff.ts';
export { printConfig, redactConfig, REDACTED } from './print.ts';
export { defaultConfigFromUri, parseTurnUri, URI_CLUSTER_NAME, URI_LISTENER_NAME } from './uri.ts';
export type { TurnUri } from './uri.ts';
export { checkEndpoint, parseEndpoint } from './http-endpoint.ts';
export type { HttpEndpoint, HttpEndpointDefaults } from './http-endpoint.ts';
export { parseStaticEndpoint } from './cluster-endpoint.ts';
export type { StaticEndpoint } from './cluster-endpoint.ts';
export { selfSignedCertificate } from './self-signed.ts';
export type { CertificatePair } from './self-signed.ts';
export type * from './types.ts';
