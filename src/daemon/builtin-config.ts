// The configs stunnerd runs without a file: from a turn:// URI (as upstream), or the local demo.
import type { StunnerConfig } from '../config/types.ts';
import { defaultConfigFromUri } from '../config/uri.ts';
import { validateConfig } from '../config/validate.ts';

/** The quick start's config: loopback only, demo credentials, metrics and health on. */
export const DEMO_URI = 'turn://user1:passwd1@127.0.0.1:3478';

export function builtinConfig(uri: string | undefined): StunnerConfig {
  const base = defaultConfigFromUri(uri ?? DEMO_URI);
  if (uri !== undefined) return base;
  return validateConfig({
    ...base,
    admin: {
      ...base.admin,
      metrics_endpoint: 'http://127.0.0.1:8080/metrics',
      healthcheck_endpoint: 'http://127.0.0.1:8086',
    },
  });
}
