/**
 * The sending server's reputation as receivers see it: a reverse DNS name that resolves back to
 * the address (forward-confirmed reverse DNS, which Gmail requires), and no listing on the DNS
 * blocklists receivers consult. A list that refuses to answer is "unknown", never a listing.
 */
import { statusOf, type Finding, type Status } from '../findings.ts';
import type { DnsLookup } from '../resolver.ts';
import { fetchRecords, txtText, type DnsTrouble } from './dns.ts';
import { authFinding, worstFirst } from './finding.ts';
import { canonicalIp, isIPv4, ptrName, reversedIp } from './ip-text.ts';

/**
 * Widely used blocklists that answer free queries for low volumes. Each has terms of use
 * (README "Blocklists"); `--dnsbl` replaces the list.
 */
export const DEFAULT_DNSBL_ZONES = ['zen.spamhaus.org', 'bl.spamcop.net', 'b.barracudacentral.org', 'psbl.surriel.com'] as const;

// RFC 7208 §5.5 stops at 10 PTR names; a reverse zone listing more is not worth following.
const MAX_PTR_NAMES = 10;

/** One blocklist's answer about the address. */
export interface DnsblResult {
  readonly zone: string;
  /** `listed`: a 127.0.0.x listing; `clean`: NXDOMAIN; `unavailable`: refused, bogus or no answer. */
  readonly verdict: 'listed' | 'clean' | 'unavailable';
  /** The A records answered (e.g. 127.0.0.2), when any. */
  readonly codes: readonly string[];
  /** The list's TXT explanation of a listing, when it gives one. */
  readonly text: string | null;
  /** Why the list is unavailable, for `unavailable`. */
  readonly why?: { readonly kind: 'refused' | 'bogus' | 'dns'; readonly code: string };
}

/** The records an IP check read (the `records` of `dns --json`'s `ips`). */
export interface IpRecords {
  readonly ptr: { readonly names: readonly string[]; readonly confirmed: boolean; readonly error?: string };
  readonly dnsbl: readonly { readonly zone: string; readonly listed: boolean | null; readonly codes: readonly string[]; readonly text: string | null; readonly error?: string }[];
}

/** The verdict on one sending address. */
export interface IpReport {
  readonly ip: string;
  readonly status: Status;
  readonly records: IpRecords;
  readonly findings: readonly Finding[];
  readonly troubles: readonly DnsTrouble[];
}

/** What to check. */
export interface IpCheckOptions {
  /** Blocklist zones to query. @default DEFAULT_DNSBL_ZONES */
  readonly dnsbl?: readonly string[];
}

/**
 * How a blocklist answer reads: 127.0.0.0/8 is a listing, except 127.255.255.0/24, which lists
 * such as Spamhaus use to refuse the query (a public or unregistered resolver, too many
 * queries); anything outside 127/8 is not a blocklist answer at all (a resolver that rewrites
 * NXDOMAIN, an expired list whose domain now points elsewhere).
 */
export function dnsblAnswerKind(address: string): 'listed' | 'refused' | 'bogus' {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) return 'bogus';
  return address.startsWith('127.255.255.') ? 'refused' : 'listed';
}

/** Asks one blocklist about an address. */
export async function queryDnsbl(ip: string, zone: string, deps: { readonly lookup: DnsLookup }): Promise<DnsblResult> {
  const reversed = reversedIp(ip);
  const cleanZone = zone.toLowerCase().replace(/^\.+|\.+$/g, '');
  if (reversed === null) return { zone: cleanZone, verdict: 'unavailable', codes: [], text: null, why: { kind: 'dns', code: 'EBADIP' } };
  const name = `${reversed}.${cleanZone}`;
  const a = await fetchRecords(deps.lookup, name, 'A');
  if (a.kind === 'none') return { zone: cleanZone, verdict: 'clean', codes: [], text: null };
  if (a.kind === 'error') return { zone: cleanZone, verdict: 'unavailable', codes: [], text: null, why: { kind: 'dns', code: a.code } };
  const codes = [...a.records].sort();
  const kinds = codes.map(dnsblAnswerKind);
  if (!kinds.includes('listed')) {
    const kind = kinds.includes('refused') ? 'refused' : 'bogus';
    return { zone: cleanZone, verdict: 'unavailable', codes, text: null, why: { kind, code: codes.join(', ') } };
  }
  const listedCodes = codes.filter((c) => dnsblAnswerKind(c) === 'listed');
  const txt = await fetchRecords(deps.lookup, name, 'TXT');
  const text = txt.kind === 'records' ? txt.records.map(txtText).join(' / ') || null : null;
  return { zone: cleanZone, verdict: 'listed', codes: listedCodes, text };
}

/** The reverse DNS of an address and whether one of its names resolves back to it. */
export async function checkPtr(
  ip: string,
  deps: { readonly lookup: DnsLookup },
): Promise<{ names: string[]; confirmed: boolean; troubles: DnsTrouble[] }> {
  const name = ptrName(ip);
  const own = canonicalIp(ip);
  if (name === null || own === null) return { names: [], confirmed: false, troubles: [] };
  const ptr = await fetchRecords(deps.lookup, name, 'PTR');
  if (ptr.kind === 'error') return { names: [], confirmed: false, troubles: [{ name, type: 'PTR', code: ptr.code }] };
  if (ptr.kind === 'none') return { names: [], confirmed: false, troubles: [] };
  const names = [...new Set(ptr.records.map((n) => n.toLowerCase().replace(/\.$/, '')))].slice(0, MAX_PTR_NAMES);
  const type = isIPv4(ip) ? 'A' : 'AAAA';
  const troubles: DnsTrouble[] = [];
  const forward = await Promise.all(
    names.map(async (n) => {
      const addresses = await fetchRecords(deps.lookup, n, type);
      if (addresses.kind === 'error') troubles.push({ name: n, type, code: addresses.code });
      return addresses.kind === 'records' && addresses.records.some((a) => canonicalIp(a) === own);
    }),
  );
  const confirmed = forward.some(Boolean);
  return { names, confirmed, troubles: confirmed ? [] : troubles };
}

function errorOf(troubles: readonly DnsTrouble[]): { error?: string } {
  return troubles.length > 0 ? { error: troubles.map((t) => `${t.type} ${t.name}: ${t.code}`).join('; ') } : {};
}

/**
 * Checks a sending address: PTR_MISSING / PTR_MISMATCH for its reverse DNS, DNSBL_LISTED per
 * list that lists it, DNSBL_UNAVAILABLE (info) per list that would not say.
 * @example
 * const report = await checkSendingIp('192.0.2.25', { dnsbl: ['zen.spamhaus.org'] }, { lookup });
 * report.findings.map((f) => f.code) // ['PTR_MISSING']
 */
export async function checkSendingIp(ip: string, options: IpCheckOptions, deps: { readonly lookup: DnsLookup }): Promise<IpReport> {
  const address = ip.trim();
  const zones = [...new Set((options.dnsbl ?? DEFAULT_DNSBL_ZONES).map((z) => z.toLowerCase()))];
  const [ptr, lists] = await Promise.all([checkPtr(address, deps), Promise.all(zones.map((z) => queryDnsbl(address, z, deps)))]);
  const findings: Finding[] = [];
  if (ptr.troubles.length === 0) {
    if (ptr.names.length === 0) findings.push(authFinding('PTR_MISSING', 'critical', { ip: address }));
    else if (!ptr.confirmed) findings.push(authFinding('PTR_MISMATCH', 'warning', { ip: address, names: ptr.names }));
  }
  for (const list of lists) {
    if (list.verdict === 'listed') findings.push(authFinding('DNSBL_LISTED', 'critical', { ip: address, zone: list.zone, codes: list.codes, text: list.text }));
    else if (list.verdict === 'unavailable' && list.why) findings.push(authFinding('DNSBL_UNAVAILABLE', 'info', { ip: address, zone: list.zone, why: list.why }));
  }
  const troubles = ptr.troubles;
  const sorted = worstFirst(findings);
  const status = statusOf(sorted);
  return {
    ip: address,
    status: troubles.length > 0 && status !== 'critical' ? 'unknown' : status,
    records: {
      ptr: { names: ptr.names, confirmed: ptr.confirmed, ...errorOf(ptr.troubles) },
      dnsbl: lists.map((l) => ({
        zone: l.zone,
        listed: l.verdict === 'unavailable' ? null : l.verdict === 'listed',
        codes: l.codes,
        text: l.text,
        ...(l.why ? { error: l.why.kind === 'dns' ? l.why.code : `${l.why.kind}: ${l.why.code}` } : {}),
      })),
    },
    findings: sorted,
    troubles,
  };
}
