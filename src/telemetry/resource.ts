// The OTel resource every metric carries: who is reporting (service.name/version/instance.id) plus the operator's
// OTEL_RESOURCE_ATTRIBUTES. Precedence: OTEL_SERVICE_NAME > OTEL_RESOURCE_ATTRIBUTES > our defaults.
import { randomUUID } from 'node:crypto';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { TelemetryEnv } from './env.ts';

export const DEFAULT_SERVICE_NAME = 'stunner';

/** Random, fixed for the life of the process (the OTel semantic conventions' recommendation for instance ids). */
export const PROCESS_INSTANCE_ID = randomUUID();

export function buildResource(env: Pick<TelemetryEnv, 'serviceName' | 'resourceAttributes'>, version: string): Resource {
  const attributes: Record<string, string> = {
    'service.name': DEFAULT_SERVICE_NAME,
    'service.version': version,
    'service.instance.id': PROCESS_INSTANCE_ID,
    ...env.resourceAttributes,
  };
  if (env.serviceName !== undefined) attributes['service.name'] = env.serviceName;
  // defaultResource() contributes telemetry.sdk.{name,language,version}.
  return defaultResource().merge(resourceFromAttributes(attributes));
}
