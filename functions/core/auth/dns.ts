/**
 * How the authentication checks read DNS: one lookup through the DnsLookup port turned into a
 * value (records, no such record, or trouble), so a missing record is a finding and a DNS
 * failure is "could not check", never an exception.
 */
import type { DnsLookup, DnsRecordData, DnsRecordType } from '../resolver.ts';

/** The outcome of one lookup. */
export type Fetched<T extends DnsRecordType> =
  | { readonly kind: 'records'; readonly records: readonly DnsRecordData[T][] }
  /** NXDOMAIN (`ENOTFOUND`) or a name without records of the type (`ENODATA`). */
  | { readonly kind: 'none'; readonly code: 'ENOTFOUND' | 'ENODATA' }
  /** The question got no usable answer (timeout, SERVFAIL, refused): nothing can be concluded. */
  | { readonly kind: 'error'; readonly code: string };

/** A lookup that could not be answered, kept so a report can say what was not checked. */
export interface DnsTrouble {
  readonly name: string;
  readonly type: DnsRecordType;
  readonly code: string;
}

function errorCode(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'ERROR';
}

/**
 * Asks one question; never rejects.
 * @example const txt = await fetchRecords(lookup, '_dmarc.example.jp', 'TXT'); if (txt.kind === 'records') …
 */
export async function fetchRecords<T extends DnsRecordType>(lookup: DnsLookup, name: string, type: T): Promise<Fetched<T>> {
  try {
    const answer = await lookup(name, type);
    if (answer.records.length === 0) return { kind: 'none', code: 'ENODATA' };
    return { kind: 'records', records: answer.records };
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOTFOUND' || code === 'ENODATA') return { kind: 'none', code };
    return { kind: 'error', code };
  }
}

/** A TXT record's text: its character-strings joined without spaces (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
export function txtText(record: readonly string[]): string {
  return record.join('');
}

/**
 * A domain name as it is looked up: lower case, no trailing dot, IDNs as A-labels.
 * Null when it is not a domain name at all.
 * @example lookupName('Shop.Example.JP.') // 'shop.example.jp'
 */
export function lookupName(domain: string): string | null {
  const d = domain.trim().toLowerCase().replace(/\.+$/, '');
  if (d === '' || d.length > 253 || /[\s@/\\]/.test(d)) return null;
  let ascii = d;
  if (/[^\x00-\x7f]/.test(d)) {
    try {
      ascii = new URL(`http://${d}/`).hostname;
    } catch {
      return null;
    }
  }
  const labels = ascii.split('.');
  if (labels.some((l) => l === '' || l.length > 63)) return null;
  return ascii;
}
