/**
 * The reverse names of report sources, through the DNS port: each address asked once, a few
 * at a time, at most `max` of them (a report of a botnet lists thousands), and no more asking
 * once DNS has stopped answering (every lookup would wait for its timeout).
 */
import { fetchRecords } from '../auth/dns.ts';
import { canonicalIp, ptrName } from '../auth/ip-text.ts';
import type { DnsLookup } from '../resolver.ts';

/** How reverse names are looked up. */
export interface ReverseOptions {
  /** @default 8 */
  readonly concurrency?: number;
  /** Addresses looked up at most; the rest have no name. @default 1000 */
  readonly max?: number;
  /** Lookups in a row that got no answer (timeout, SERVFAIL) after which DNS is taken to be down. @default 5 */
  readonly giveUpAfter?: number;
}

/**
 * Looks up the reverse names (PTR) of addresses; an address without one, or not looked up, maps
 * to null. Never rejects.
 * @example const names = await reverseNames(['209.85.220.41'], { lookup }); names.get('209.85.220.41') // 'mail-sor-f41.google.com'
 */
export async function reverseNames(ips: Iterable<string>, deps: { readonly lookup: DnsLookup }, options: ReverseOptions = {}): Promise<Map<string, string | null>> {
  const unique = [...new Set(ips)];
  const out = new Map<string, string | null>(unique.map((ip) => [ip, null]));
  const queue = unique.slice(0, options.max ?? 1000);
  const giveUpAfter = options.giveUpAfter ?? 5;
  let failuresInARow = 0;
  const worker = async () => {
    for (let ip = queue.shift(); ip !== undefined; ip = queue.shift()) {
      if (failuresInARow >= giveUpAfter) return;
      const canonical = canonicalIp(ip);
      const name = canonical ? ptrName(canonical) : null;
      if (!name) continue;
      const got = await fetchRecords(deps.lookup, name, 'PTR');
      if (got.kind === 'error') {
        failuresInARow++;
        continue;
      }
      failuresInARow = 0;
      if (got.kind === 'records') out.set(ip, got.records[0]!.toLowerCase().replace(/\.$/, ''));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return out;
}
