// DNS host-name syntax (RFC 1123 labels; "_" allowed as in service names), for STRICT_DNS cluster
// endpoints and public addresses.

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i;

export function isHostName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare === '' || bare.length > 253) return false;
  return bare.split('.').every((label) => LABEL.test(label));
}
