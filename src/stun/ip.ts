// IP address text <-> bytes without node:net, so the codec stays pure. Text forms are those Node's dgram
// reports (dotted quad, RFC 5952 compressed lower-case IPv6), so strings compare equal to `rinfo.address`.

/** Writes the 4 bytes of a dotted-quad IPv4 address at `offset`; returns false if `text` is not one. */
export function writeIPv4(text: string, out: Uint8Array, offset: number): boolean {
  let octet = 0;
  let digits = 0;
  let part = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part === 3) return false;
      out[offset + part++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      octet = octet * 10 + (c - 0x30);
      if (++digits > 3 || octet > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[offset + 3] = octet;
  return true;
}

/** Writes the 16 bytes of an IPv6 address (with `::` and an optional embedded IPv4 tail) at `offset`. */
export function writeIPv6(text: string, out: Uint8Array, offset: number): boolean {
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const groups: number[] = [];
  const parse = (parts: string[], isLast: boolean): boolean => {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (isLast && i === parts.length - 1 && p.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!writeIPv4(p, v4, 0)) return false;
        groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return false;
      groups.push(parseInt(p, 16));
    }
    return true;
  };
  if (!parse(head, halves.length === 1)) return false;
  const headLen = groups.length;
  if (!parse(tail, true)) return false;
  const missing = 8 - groups.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return false;
  const all = [...groups.slice(0, headLen), ...new Array<number>(missing).fill(0), ...groups.slice(headLen)];
  for (let i = 0; i < 8; i++) {
    out[offset + 2 * i] = all[i] >> 8;
    out[offset + 2 * i + 1] = all[i] & 0xff;
  }
  return true;
}

export function formatIPv4(b: Uint8Array, offset: number): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run (≥ 2) of zero groups as `::`. */
export function formatIPv6(b: Uint8Array, offset: number): string {
  const g = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = (b[offset + 2 * i] << 8) | b[offset + 2 * i + 1];
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // Node reports IPv4-mapped addresses as ::ffff:a.b.c.d, and IPv4-compatible ones (exactly six leading zero
  // groups) as ::a.b.c.d; keep the same text so lookups match.
  if (bestStart === 0 && bestLen === 5 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, offset + 12)}`;
  }
  if (bestStart === 0 && bestLen === 6) return `::${formatIPv4(b, offset + 12)}`;
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(':');
  const left = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const right = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${left}::${right}`;
}

/** 4 or 6 for an address text, 0 if it is neither. */
export function ipFamily(text: string): 0 | 4 | 6 {
  const probe = new Uint8Array(16);
  if (writeIPv4(text, probe, 0)) return 4;
  if (text.includes(':') && writeIPv6(text, probe, 0)) return 6;
  return 0;
}
