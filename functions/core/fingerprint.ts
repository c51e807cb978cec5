/**
 * FNV-1a (32 bit): a short hash that is the same on every run and machine, for keys and stable
 * offsets (never for anything that must resist a chosen input).
 */

/** The FNV-1a hash of a string's code points. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const ch of s) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The hash as 8 hex digits: a short stable fingerprint for a key. */
export function fingerprint(s: string): string {
  return fnv1a(s).toString(16).padStart(8, '0');
}
