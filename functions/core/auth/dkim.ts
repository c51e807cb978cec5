/**
 * DKIM keys (RFC 6376 §3.6.1) from the sender's side: is the public key of a selector published
 * at `<selector>._domainkey.<domain>`, not revoked, and strong enough? The key size is read from
 * the key itself (the RSA modulus in its DER encoding), not guessed from the record's length.
 */
import type { DnsLookup } from '../resolver.ts';
import { fetchRecords, lookupName, txtText, type DnsTrouble } from './dns.ts';

/** RFC 8301 §3.2: verifiers must not accept RSA keys under 1024 bits. */
export const DKIM_MIN_RSA_BITS = 1024;
/** What Gmail, Yahoo and RFC 8301 recommend signers use. */
export const DKIM_RECOMMENDED_RSA_BITS = 2048;

/** A parsed key record. */
export type DkimKeyParse =
  | { readonly ok: true; readonly keyType: string; readonly revoked: boolean; readonly bits: number | null; readonly testing: boolean }
  | { readonly ok: false; readonly problem: string };

/** Reads a DER length at `at`; returns the length and where the content starts. */
function derLength(bytes: Uint8Array, at: number): { length: number; start: number } | null {
  const first = bytes[at];
  if (first === undefined) return null;
  if (first < 0x80) return { length: first, start: at + 1 };
  const n = first & 0x7f;
  if (n === 0 || n > 4) return null;
  let length = 0;
  for (let i = 1; i <= n; i++) {
    const b = bytes[at + i];
    if (b === undefined) return null;
    length = length * 256 + b;
  }
  return { length, start: at + 1 + n };
}

/** The DER element at `at`: its tag, content start and end. */
function derElement(bytes: Uint8Array, at: number): { tag: number; start: number; end: number } | null {
  const tag = bytes[at];
  if (tag === undefined) return null;
  const len = derLength(bytes, at + 1);
  if (!len || len.start + len.length > bytes.length) return null;
  return { tag, start: len.start, end: len.start + len.length };
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;

/** The bit length of an RSA modulus from an RSAPublicKey SEQUENCE at `at`. */
function modulusBits(bytes: Uint8Array, at: number): number | null {
  const seq = derElement(bytes, at);
  if (!seq || seq.tag !== SEQUENCE) return null;
  const n = derElement(bytes, seq.start);
  if (!n || n.tag !== INTEGER) return null;
  let i = n.start;
  while (i < n.end && bytes[i] === 0) i++;
  if (i === n.end) return null;
  return (n.end - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

/**
 * The size in bits of an RSA public key given as base64 DER: a SubjectPublicKeyInfo (what DKIM
 * publishes) or a bare PKCS#1 RSAPublicKey (which some tools publish and verifiers accept).
 * Null when the bytes are not an RSA key.
 * @example rsaKeyBits('MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA…') // 2048
 */
export function rsaKeyBits(base64: string): number | null {
  const clean = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(clean) || clean.length % 4 === 1) return null;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(clean), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  const outer = derElement(bytes, 0);
  if (!outer || outer.tag !== SEQUENCE) return null;
  const first = derElement(bytes, outer.start);
  if (!first) return null;
  if (first.tag === INTEGER) return modulusBits(bytes, 0);
  if (first.tag !== SEQUENCE) return null;
  const bitString = derElement(bytes, first.end);
  // The BIT STRING's first content byte counts unused bits; the key follows it.
  if (!bitString || bitString.tag !== BIT_STRING) return null;
  return modulusBits(bytes, bitString.start + 1);
}

/**
 * Parses a DKIM key record: `v=DKIM1` (optional, first), `k=` (default rsa), `p=` (the key;
 * empty means revoked), `t=y` (testing).
 * @example parseDkimKey('v=DKIM1; k=rsa; p=') // { ok: true, revoked: true, … }
 */
export function parseDkimKey(record: string): DkimKeyParse {
  const tags: Record<string, string> = {};
  const parts = record.split(';').map((p) => p.trim()).filter((p) => p !== '');
  for (const [i, part] of parts.entries()) {
    const m = /^([a-z][a-z0-9_]*)\s*=\s*(.*)$/is.exec(part);
    if (!m) return { ok: false, problem: `"${part.slice(0, 40)}" is not a tag=value pair` };
    const name = m[1]!.toLowerCase();
    if (name === 'v' && (i !== 0 || m[2]!.trim() !== 'DKIM1')) return { ok: false, problem: 'v= must be DKIM1 and come first' };
    tags[name] = m[2]!.replace(/\s+/g, '');
  }
  if (tags.p === undefined) return { ok: false, problem: 'there is no public key (p=)' };
  const keyType = (tags.k ?? 'rsa').toLowerCase();
  const testing = (tags.t ?? '').split(':').includes('y');
  if (tags.p === '') return { ok: true, keyType, revoked: true, bits: null, testing };
  if (keyType === 'rsa') {
    const bits = rsaKeyBits(tags.p);
    if (bits === null) return { ok: false, problem: 'p= does not hold an RSA public key (broken base64 or a cut-off key)' };
    return { ok: true, keyType, revoked: false, bits, testing };
  }
  if (keyType === 'ed25519') {
    const ok = /^[A-Za-z0-9+/]{43}=$/.test(tags.p);
    return ok ? { ok: true, keyType, revoked: false, bits: 256, testing } : { ok: false, problem: 'p= does not hold a 32-byte Ed25519 key' };
  }
  return { ok: false, problem: `k=${keyType} is not a key type verifiers know (rsa, ed25519)` };
}

/** The facts of one selector's key. */
export interface DkimKeyReport {
  readonly selector: string;
  /** Where the key is looked up. */
  readonly name: string;
  readonly record: string | null;
  readonly key: DkimKeyParse | null;
  readonly troubles: readonly DnsTrouble[];
}

/**
 * Looks up one selector's key and reads it.
 * @example (await checkDkimKey('example.jp', 'mail2025', { lookup })).key // { ok: true, keyType: 'rsa', bits: 2048, … }
 */
export async function checkDkimKey(domain: string, selector: string, deps: { readonly lookup: DnsLookup }): Promise<DkimKeyReport> {
  const name = `${selector.toLowerCase()}._domainkey.${lookupName(domain) ?? domain}`;
  const txt = await fetchRecords(deps.lookup, name, 'TXT');
  if (txt.kind === 'error') return { selector, name, record: null, key: null, troubles: [{ name, type: 'TXT', code: txt.code }] };
  // A name can carry other TXT records too; the key record is the one with p= (or v=DKIM1).
  const texts = txt.kind === 'records' ? txt.records.map(txtText) : [];
  const record = texts.find((t) => /^\s*v\s*=\s*DKIM1\b/i.test(t)) ?? texts.find((t) => /(^|;)\s*p\s*=/i.test(t)) ?? null;
  return { selector, name, record, key: record === null ? null : parseDkimKey(record), troubles: [] };
}
