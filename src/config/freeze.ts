// A validated config is shared by reference between the relay, telemetry and the reloader:
// frozen, so nobody changes it under the others.

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
