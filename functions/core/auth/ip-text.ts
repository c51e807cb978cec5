/**
 * IP addresses as text: validation, the canonical form used to compare them, and the reversed
 * names PTR and DNS blocklist queries use (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa).
 */

/** Whether a string is a dotted-quad IPv4 address. */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && !(p.length > 1 && p.startsWith('0')));
}

/** Whether a string is an IPv6 address in text form (RFC 4291 §2.2, with an embedded IPv4 tail). */
export function isIPv6(s: string): boolean {
  if (!/^[0-9a-f:.]+$/i.test(s) || !s.includes(':')) return false;
  let head = s;
  let extra = 0;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return false;
    head = s.slice(0, lastColon + 1) + '0';
    extra = 1;
  }
  const halves = head.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  if (groups.some((g) => g.some((x) => !/^[0-9a-f]{1,4}$/i.test(x)))) return false;
  const count = groups.reduce((n, g) => n + g.length, 0) + extra;
  return halves.length === 2 ? count < 8 : count === 8;
}

/**
 * The full form of an IPv6 address: 8 groups of 4 lower-case hex digits, so equal addresses
 * compare equal. Null when not IPv6.
 * @example expandIPv6('2001:db8::1') // '2001:0db8:0000:0000:0000:0000:0000:0001'
 */
export function expandIPv6(s: string): string | null {
  if (!isIPv6(s)) return null;
  let text = s.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined ? [] : rest === '' ? [] : rest.split(':');
  const missing = 8 - left.length - right.length;
  const groups = [...left, ...Array.from({ length: rest === undefined ? 0 : missing }, () => '0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** The canonical text of an IP address (IPv4 as is, IPv6 expanded); null when not an address. */
export function canonicalIp(s: string): string | null {
  const t = s.trim();
  if (isIPv4(t)) return t;
  return expandIPv6(t);
}

/**
 * The reversed form of an address: `4.3.2.192` for 192.0.2.4, 32 dotted nibbles for IPv6.
 * Append `.in-addr.arpa` / `.ip6.arpa` for PTR, or a blocklist zone for a DNSBL query.
 * @example reversedIp('192.0.2.4') // '4.2.0.192'
 */
export function reversedIp(ip: string): string | null {
  if (isIPv4(ip)) return ip.split('.').reverse().join('.');
  const full = expandIPv6(ip);
  return full === null ? null : [...full.replace(/:/g, '')].reverse().join('.');
}

/**
 * The PTR name of an address.
 * @example ptrName('192.0.2.4') // '4.2.0.192.in-addr.arpa'
 */
export function ptrName(ip: string): string | null {
  const reversed = reversedIp(ip);
  if (reversed === null) return null;
  return `${reversed}.${isIPv4(ip) ? 'in-addr.arpa' : 'ip6.arpa'}`;
}
