/**
 * A DnsLookup that remembers answers, so the check that every canary round runs for its `from`
 * domain asks DNS rarely: an answer (or a "no such record") is reused for its TTL and, however
 * short the TTL, for at least `minSeconds` (an hour by default). Failures (timeouts, SERVFAIL)
 * are not remembered: the next round asks again. Time comes from the Clock port.
 */
import type { Clock } from '../ports.ts';
import type { DnsAnswer, DnsLookup, DnsRecordType } from '../resolver.ts';

/** Answers are reused at least this long: "at most once an hour" per question. */
export const MIN_CACHE_SECONDS = 3600;
/** And at most this long, whatever the TTL says, so a fixed record is seen within a day. */
export const MAX_CACHE_SECONDS = 86_400;

/** Options of {@link cachedLookup}. */
export interface CacheOptions {
  readonly clock: Clock;
  /** @default MIN_CACHE_SECONDS */
  readonly minSeconds?: number;
  /** @default MAX_CACHE_SECONDS */
  readonly maxSeconds?: number;
  /** Entries kept at most (the oldest go first). @default 5000 */
  readonly maxEntries?: number;
}

type Entry = { readonly until: number; readonly outcome: { ok: true; answer: DnsAnswer<DnsRecordType> } | { ok: false; error: unknown } };

function isNegative(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

/**
 * Wraps a lookup with a cache. Concurrent identical questions share one query.
 * @example
 * const lookup = cachedLookup(createDnsLookup(), { clock: () => new Date(now) });
 * await lookup('example.jp', 'TXT'); // asks DNS
 * await lookup('example.jp', 'TXT'); // from the cache for the next hour
 */
export function cachedLookup(inner: DnsLookup, options: CacheOptions): DnsLookup & { readonly size: () => number } {
  const minMs = (options.minSeconds ?? MIN_CACHE_SECONDS) * 1000;
  const maxMs = (options.maxSeconds ?? MAX_CACHE_SECONDS) * 1000;
  const maxEntries = options.maxEntries ?? 5000;
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<DnsAnswer<DnsRecordType>>>();

  const keep = (key: string, ttlSeconds: number | undefined, outcome: Entry['outcome']) => {
    const ms = Math.min(maxMs, Math.max(minMs, (ttlSeconds ?? 0) * 1000));
    entries.delete(key);
    entries.set(key, { until: options.clock().getTime() + ms, outcome });
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };

  async function lookup<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
    const key = `${type} ${name.toLowerCase().replace(/\.$/, '')}`;
    const hit = entries.get(key);
    if (hit && hit.until > options.clock().getTime()) {
      if (hit.outcome.ok) return hit.outcome.answer as DnsAnswer<T>;
      throw hit.outcome.error;
    }
    const pending = inFlight.get(key);
    if (pending) return pending as Promise<DnsAnswer<T>>;
    const asked = (async () => {
      try {
        const answer = await inner(name, type);
        keep(key, answer.ttl, { ok: true, answer });
        return answer;
      } catch (err) {
        if (isNegative(err)) keep(key, (err as { ttl?: number }).ttl, { ok: false, error: err });
        throw err;
      } finally {
        inFlight.delete(key);
      }
    })();
    inFlight.set(key, asked);
    return asked as Promise<DnsAnswer<T>>;
  }

  return Object.assign(lookup, { size: () => entries.size });
}
