// What the daemon uses from telemetry.
export {
  Telemetry, METRICS_FIELD, HEALTH_FIELD, DEFAULT_FINAL_PUSH_TIMEOUT_MS,
  type TelemetryOptions, type AdminEndpoints,
} from './telemetry.ts';
export {
  statusFromConfig, type StatusSource, type GatewayStatusSnapshot, type ListenerStatus, type ClusterStatus,
} from './health.ts';
export { TelemetryEnvError, EndpointError, ENDPOINT_ERROR_CODES, type EndpointErrorCode } from './errors.ts';
export { parseTelemetryEnv, type TelemetryEnv, type OtlpPushOptions } from './env.ts';
export { PROCESS_INSTANCE_ID } from './resource.ts';
