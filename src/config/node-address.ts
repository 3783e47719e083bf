// The operator's node-address placeholder. A Gateway that asks to advertise its node's external IP renders the
// listener address as `__node_address_placeholder`; the CDS server replaces it, per stunnerd, with the external
// IP of the node the stunnerd named in its watch (`node=$STUNNER_NODENAME`), or with `$STUNNER_ADDR` when the
// node has none (docs/cds-protocol.md, "Node-address substitution"). A config that still carries it (no
// node name, a server without the patcher) gets the operator's own fallback here, where upstream rejects it.

import type { ConfigProblem } from './errors.ts';
import { isObject } from './fields.ts';

export const NODE_ADDRESS_PLACEHOLDER = '__node_address_placeholder';
/** What the operator's patcher falls back to; expanded from the environment afterwards (the pod IP). */
export const NODE_ADDRESS_FALLBACK = '$STUNNER_ADDR';

/** A copy of a raw stunnerd config document with the placeholder replaced, and a warning per replacement. */
export function replaceNodeAddressPlaceholder(doc: unknown): { doc: unknown; warnings: ConfigProblem[] } {
  if (!isObject(doc) || !Array.isArray(doc.listeners)) return { doc, warnings: [] };
  const warnings: ConfigProblem[] = [];
  const listeners = doc.listeners.map((l: unknown, i) => {
    if (!isObject(l)) return l;
    const out = { ...l };
    if (out.address === NODE_ADDRESS_PLACEHOLDER) {
      out.address = NODE_ADDRESS_FALLBACK;
      warnings.push({ path: `listeners[${i}].address`, message: `${NODE_ADDRESS_PLACEHOLDER} was not replaced by ` +
        `the config discovery server (is STUNNER_NODENAME set?): using ${NODE_ADDRESS_FALLBACK}` });
    }
    // Only the address is patched upstream; a placeholder public address means "unknown".
    if (out.public_address === NODE_ADDRESS_PLACEHOLDER) out.public_address = '';
    return out;
  });
  return { doc: { ...doc, listeners }, warnings };
}
