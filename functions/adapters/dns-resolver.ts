/**
 * The Resolver port over node:dns/promises. Errors keep node's codes (ENOTFOUND for a domain
 * that does not exist, ENODATA for a name without records of that type); a lookup that takes
 * too long rejects with ETIMEOUT.
 */
import { Resolver as NodeResolver } from 'node:dns/promises';
import type { Resolver } from '#core/ports.ts';

/** A DNS answer normally takes milliseconds; past this a check should report "not checked", not hang. */
export const DNS_TIMEOUT_MS = 5_000;

/** Options of {@link createDnsResolver}. */
export interface DnsResolverOptions {
  /** Upper bound for one lookup, retries included. @default DNS_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** Name servers (`host` or `host:port`); the system's when absent. */
  readonly servers?: readonly string[];
}

function timeoutError(name: string, rrtype: string, ms: number): Error {
  return Object.assign(new Error(`DNS ${rrtype} lookup of ${name} timed out after ${ms} ms`), { code: 'ETIMEOUT' });
}

/**
 * A Resolver for MX, A and AAAA lookups.
 *
 * @example
 * const resolver = createDnsResolver({ timeoutMs: 3000 });
 * await resolver('example.jp', 'MX'); // [{ exchange: 'mx.example.jp', priority: 10 }]
 */
export function createDnsResolver(options: DnsResolverOptions = {}): Resolver {
  const timeoutMs = options.timeoutMs ?? DNS_TIMEOUT_MS;

  function lookup(name: string, rrtype: 'MX'): Promise<{ exchange: string; priority: number }[]>;
  function lookup(name: string, rrtype: 'A' | 'AAAA'): Promise<string[]>;
  async function lookup(name: string, rrtype: 'MX' | 'A' | 'AAAA'): Promise<{ exchange: string; priority: number }[] | string[]> {
    // One node resolver per lookup, so cancelling a slow one leaves the others running.
    const resolver = new NodeResolver({ timeout: Math.max(1, Math.floor(timeoutMs / 2)), tries: 2 });
    if (options.servers) resolver.setServers([...options.servers]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        resolver.cancel();
        reject(timeoutError(name, rrtype, timeoutMs));
      }, timeoutMs);
    });
    // Node 24's resolveMx adds `type: 'MX'` to each record; the port's records are the same on every Node.
    const query =
      rrtype === 'MX'
        ? resolver.resolveMx(name).then((records) => records.map(({ exchange, priority }) => ({ exchange, priority })))
        : rrtype === 'A'
          ? resolver.resolve4(name)
          : resolver.resolve6(name);
    try {
      return await Promise.race([query, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  return lookup;
}
