// admin fields of upstream stunnerd v1.2.1 that name features this implementation does not have: the offload
// engine (XDP/TC, `offload_engine`, `offload_interfaces`) and the commercial license (`license_config`). A config
// that sets them runs as upstream's open-source build runs it (no offload, free tier), with one warning.

import { childPath, type ProblemSink } from '../errors.ts';
import { describeValue, type RawObject } from '../fields.ts';

export const UPSTREAM_ADMIN_FIELDS = ['offload_engine', 'offload_interfaces', 'license_config'] as const;

/** Upstream's NewOffloadEngine, case-insensitive; None is the default and means no offload. */
const OFFLOAD_ENGINES = ['none', 'xdp', 'tc', 'auto'];

export function checkUpstreamAdmin(raw: RawObject, path: string, problems: ProblemSink): void {
  const unavailable: string[] = [];
  const engine = raw.offload_engine;
  if (engine !== undefined && engine !== null && engine !== '') {
    if (typeof engine !== 'string' || !OFFLOAD_ENGINES.includes(engine.toLowerCase())) {
      // Upstream rejects an unknown engine too.
      problems.error(childPath(path, 'offload_engine'), `must be None, XDP, TC or Auto, got ${describeValue(engine)}`);
    } else if (engine.toLowerCase() !== 'none') {
      unavailable.push(`offload_engine ${engine} (running without offload)`);
    }
  }
  const interfaces = raw.offload_interfaces;
  if (interfaces !== undefined && interfaces !== null && (!Array.isArray(interfaces) ||
    interfaces.some((i) => typeof i !== 'string'))) {
    problems.error(childPath(path, 'offload_interfaces'), `must be a list of strings, got ${describeValue(interfaces)}`);
  }
  const license = raw.license_config;
  if (license !== undefined && license !== null) unavailable.push('license_config (open-source features only)');
  if (unavailable.length > 0) {
    const at = childPath(path, engine !== undefined && engine !== null && engine !== '' ? 'offload_engine' : 'license_config');
    problems.warn(at, `not available in this implementation, ignored: ${unavailable.join('; ')}`);
  }
}
