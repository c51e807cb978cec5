/**
 * DNS as the core sees it: the plain-function ports the address and authentication checks ask
 * through. Kept apart from ports.ts (whose Store and Notifier name the core's results) so that
 * the checks at the bottom of the core import nothing above them.
 */
/**
 * DNS lookups, shaped like a resolver function: resolves to the records or rejects with an
 * error whose `code` is ENOTFOUND / ENODATA like node:dns.
 */
export type Resolver = {
  (name: string, rrtype: 'MX'): Promise<{ exchange: string; priority: number }[]>;
  (name: string, rrtype: 'A' | 'AAAA'): Promise<string[]>;
};

/** The record types the authentication checks ask for. */
export type DnsRecordType = 'TXT' | 'MX' | 'A' | 'AAAA' | 'PTR';

/** The data of one record of each type: TXT keeps its character-strings (max 255 bytes each) apart. */
export interface DnsRecordData {
  readonly TXT: readonly string[];
  readonly MX: { readonly exchange: string; readonly priority: number };
  readonly A: string;
  readonly AAAA: string;
  readonly PTR: string;
}

/** The records of one name and type, with the time they may be reused for. */
export interface DnsAnswer<T extends DnsRecordType> {
  readonly records: readonly DnsRecordData[T][];
  /** Seconds the answer may be cached (the smallest TTL of its records). */
  readonly ttl: number;
}

/**
 * DNS lookups with TTLs, shaped like mailauth's resolver: a plain function. Resolves with at
 * least one record (CNAME chains followed) or rejects with an error whose `code` says why, as
 * node:dns does: ENOTFOUND (the name does not exist), ENODATA (no record of that type),
 * ETIMEOUT, ESERVFAIL, EREFUSED. A rejection may carry `ttl` (how long the negative answer holds).
 */
export type DnsLookup = <T extends DnsRecordType>(name: string, type: T) => Promise<DnsAnswer<T>>;
