/**
 * Canary ids are ULIDs: 48 bits of milliseconds then 80 random bits, Crockford base32, so
 * they sort by time and fit in a VERP local part. Time and randomness are inputs.
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * @param nowMs    milliseconds since the epoch
 * @param random   at least 10 random bytes
 * @example newCanaryId(Date.parse('2026-01-01T00:00:00Z'), crypto.getRandomValues(new Uint8Array(10)))
 */
export function newCanaryId(nowMs: number, random: Uint8Array): string {
  if (random.length < 10) throw new RangeError('newCanaryId needs 10 random bytes');
  let time = '';
  let t = Math.floor(nowMs);
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let bits = 0n;
  for (let i = 0; i < 10; i++) bits = (bits << 8n) | BigInt(random[i]!);
  let rand = '';
  for (let i = 0; i < 16; i++) {
    rand = CROCKFORD[Number(bits & 31n)] + rand;
    bits >>= 5n;
  }
  return time + rand;
}

/** A canary id as it appears in addresses and headers (case-insensitive on the way back). */
export const CANARY_ID_PATTERN = /[0-9A-HJKMNP-TV-Z]{26}/i;

/** The time encoded in a canary id, in ms since the epoch (null when it is not a ULID). */
export function canaryIdTime(id: string): number | null {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/i.test(id)) return null;
  let t = 0;
  for (const ch of id.slice(0, 10).toUpperCase()) t = t * 32 + CROCKFORD.indexOf(ch);
  return t;
}

/** The VERP envelope sender that brings a bounce back to its canary. */
export function verpSender(canaryId: string, bounceDomain: string): string {
  return `bounce+${canaryId}@${bounceDomain}`;
}
