// Values of a Secret in the input: `stringData` is plain text, `data` is base64 (as the API
// server stores it); stringData wins, as it does when the API server merges them.

import { isObject } from '../fields.ts';
import type { KubeResource } from './resources.ts';

/** The first of `keys` present in the Secret, decoded; undefined when none is. */
export function secretValue(secret: KubeResource, keys: readonly string[]): string | undefined {
  const stringData = isObject(secret.doc.stringData) ? secret.doc.stringData : {};
  const data = isObject(secret.doc.data) ? secret.doc.data : {};
  for (const key of keys) {
    const plain = stringData[key];
    if (typeof plain === 'string') return plain;
    const encoded = data[key];
    if (typeof encoded === 'string') return Buffer.from(encoded.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return undefined;
}

/** A reference's namespace, defaulting to the referrer's. */
export function refNamespace(ref: Record<string, unknown>, fallback: string): string {
  return typeof ref.namespace === 'string' && ref.namespace !== '' ? ref.namespace : fallback;
}
