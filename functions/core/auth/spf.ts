/**
 * SPF (RFC 7208) from the sender's side: is the domain's record there, once, well-formed, within
 * the limit of 10 DNS-querying terms (counted through `include:` and `redirect=`), and does it
 * end in a way that protects the domain? A static reading of the published records: what every
 * receiver's check_host() would run into, without needing a sending IP.
 */
import type { DnsLookup } from '../resolver.ts';
import { fetchRecords, lookupName, txtText, type DnsTrouble } from './dns.ts';
import { isIPv4, isIPv6 } from './ip-text.ts';

/** RFC 7208 §4.6.4: at most 10 mechanisms and modifiers that cause DNS queries per check. */
export const SPF_LOOKUP_LIMIT = 10;
// Beyond the limit the count is only reported; these bound the walk of a hostile or looping tree.
const MAX_INCLUDE_DEPTH = 10;
const MAX_RECORDS_READ = 40;

export type SpfQualifier = '+' | '-' | '~' | '?';
export type SpfMechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

/** One term of a record. */
export type SpfTerm =
  | { readonly kind: 'mechanism'; readonly qualifier: SpfQualifier; readonly name: SpfMechanismName; readonly value: string | null; readonly text: string }
  | { readonly kind: 'modifier'; readonly name: string; readonly value: string; readonly text: string };

/** A parsed record, or what is wrong with it (a permerror for every receiver). */
export type SpfParse = { readonly ok: true; readonly terms: readonly SpfTerm[] } | { readonly ok: false; readonly term: string; readonly problem: string };

/** Mechanisms and modifiers that make the receiver ask DNS (RFC 7208 §4.6.4). */
const DNS_TERMS = new Set(['include', 'a', 'mx', 'ptr', 'exists', 'redirect']);

/** Whether a TXT record is an SPF record: `v=spf1` alone or followed by a space (RFC 7208 §4.5). */
export function isSpfRecord(text: string): boolean {
  return /^v=spf1(?: |$)/i.test(text);
}

const MACRO = /%(?:\{[slodiphcrtv]\d*r?[.\-+,/_=]*\}|%|_|-)/gi;

function validDomainSpec(spec: string): boolean {
  if (spec === '' || /\s/.test(spec)) return false;
  // Every % must start a valid macro (RFC 7208 §7.1).
  const withoutMacros = spec.replace(MACRO, 'm');
  if (withoutMacros.includes('%')) return false;
  if (spec !== withoutMacros) return /^[\x21-\x7e]+$/.test(spec);
  const name = spec.replace(/\.$/, '');
  const labels = name.split('.');
  if (labels.length < 2 || labels.some((l) => l === '' || l.length > 63 || !/^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?$/i.test(l))) return false;
  return /[a-z]/i.test(labels.at(-1)!);
}

function cidrOk(text: string | undefined, max: number): boolean {
  return text === undefined || (/^\d{1,3}$/.test(text) && !(text.length > 1 && text.startsWith('0')) && Number(text) <= max);
}

/** Splits `a:domain/24//64` into its domain and CIDR lengths; null when malformed. */
function dualCidr(value: string | null): { domain: string | null } | null {
  if (value === null) return { domain: null };
  const m = /^(.*?)(?:\/(\d+))?(?:\/\/(\d+))?$/.exec(value);
  if (!m || !cidrOk(m[2], 32) || !cidrOk(m[3], 128)) return null;
  return { domain: m[1] === '' ? null : m[1]! };
}

function parseTerm(text: string): SpfTerm | { problem: string } {
  const modifier = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(text);
  if (modifier) {
    const name = modifier[1]!.toLowerCase();
    const value = modifier[2]!;
    if ((name === 'redirect' || name === 'exp') && !validDomainSpec(value)) return { problem: `"${name}=" needs a domain name` };
    return { kind: 'modifier', name, value, text };
  }
  const m = /^([+\-~?]?)([a-z0-9]+)(?:([:/])(.*))?$/i.exec(text);
  if (!m) return { problem: 'is neither a mechanism nor a modifier' };
  const qualifier = (m[1] || '+') as SpfQualifier;
  const name = m[2]!.toLowerCase();
  // `a/24` has a CIDR but no domain; `a:` introduces a domain.
  const rest = m[3] === undefined ? null : m[3] === '/' ? `/${m[4]}` : m[4]!;
  switch (name) {
    case 'all':
      if (rest !== null) return { problem: '"all" takes no value' };
      return { kind: 'mechanism', qualifier, name, value: null, text };
    case 'include':
    case 'exists':
      if (m[3] !== ':' || !validDomainSpec(rest ?? '')) return { problem: `"${name}:" needs a domain name` };
      return { kind: 'mechanism', qualifier, name, value: rest, text };
    case 'a':
    case 'mx': {
      if (m[3] === ':' && rest === '') return { problem: `"${name}:" needs a domain name after the colon` };
      const parts = dualCidr(rest);
      if (!parts || (parts.domain !== null && !validDomainSpec(parts.domain))) return { problem: `"${name}" has a malformed domain or prefix length` };
      return { kind: 'mechanism', qualifier, name, value: parts.domain, text };
    }
    case 'ptr':
      if (rest !== null && (m[3] !== ':' || !validDomainSpec(rest))) return { problem: '"ptr:" needs a domain name' };
      return { kind: 'mechanism', qualifier, name, value: rest, text };
    case 'ip4': {
      const [addr, cidr, more] = (rest ?? '').split('/');
      if (m[3] !== ':' || more !== undefined || !isIPv4(addr ?? '') || !cidrOk(cidr, 32)) return { problem: '"ip4:" needs an IPv4 address, optionally with /0–/32' };
      return { kind: 'mechanism', qualifier, name, value: rest, text };
    }
    case 'ip6': {
      const [addr, cidr, more] = (rest ?? '').split('/');
      if (m[3] !== ':' || more !== undefined || !isIPv6(addr ?? '') || !cidrOk(cidr, 128)) return { problem: '"ip6:" needs an IPv6 address, optionally with /0–/128' };
      return { kind: 'mechanism', qualifier, name, value: rest, text };
    }
    default:
      return { problem: `"${name}" is not an SPF mechanism` };
  }
}

/**
 * Parses an SPF record (RFC 7208 §4.6, §12). Any error makes the whole record a permerror.
 * @example parseSpf('v=spf1 include:_spf.example.jp ~all') // { ok: true, terms: [ … ] }
 * @example parseSpf('v=spf1 ip4:192.0.2.300 -all') // { ok: false, term: 'ip4:192.0.2.300', problem: … }
 */
export function parseSpf(record: string): SpfParse {
  if (!isSpfRecord(record)) return { ok: false, term: record.slice(0, 20), problem: 'does not start with "v=spf1"' };
  const terms: SpfTerm[] = [];
  const seen = new Set<string>();
  for (const text of record.slice(6).split(' ').filter((t) => t !== '')) {
    const term = parseTerm(text);
    if ('problem' in term) return { ok: false, term: text, problem: term.problem };
    if (term.kind === 'modifier' && (term.name === 'redirect' || term.name === 'exp')) {
      if (seen.has(term.name)) return { ok: false, term: text, problem: `"${term.name}=" appears more than once` };
      seen.add(term.name);
    }
    terms.push(term);
  }
  return { ok: true, terms };
}

/** What the walk of a domain's SPF tree found wrong, in the order found. */
export type SpfProblem =
  | { readonly kind: 'missing'; readonly domain: string; readonly via: string | null }
  | { readonly kind: 'multiple'; readonly domain: string; readonly via: string | null; readonly count: number }
  | { readonly kind: 'syntax'; readonly domain: string; readonly via: string | null; readonly term: string; readonly problem: string }
  | { readonly kind: 'loop'; readonly domain: string; readonly via: string }
  | { readonly kind: 'allows-all'; readonly domain: string; readonly via: string | null; readonly term: string };

/** The SPF facts of a domain. */
export interface SpfReport {
  readonly domain: string;
  /** The domain's own `v=spf1` records (normally exactly one). */
  readonly records: readonly string[];
  /** DNS-querying terms of the whole tree (includes and redirects followed). */
  readonly lookups: number;
  /** How the policy ends for servers it does not list: the `all` term in effect, `redirect`'s included. Null: no `all` (neutral). */
  readonly ending: '+all' | '-all' | '~all' | '?all' | null;
  readonly problems: readonly SpfProblem[];
  /** Lookups that failed (timeouts, SERVFAIL): the result is incomplete. */
  readonly troubles: readonly DnsTrouble[];
}

/**
 * Reads a domain's SPF tree and counts its DNS-querying terms through every `include:` and
 * `redirect=` (RFC 7208 §4.6.4). Terms with macros are counted but not followed (they depend on
 * the message). `redirect=` is followed only when the record has no `all`, as receivers do.
 * @example
 * const spf = await checkSpf('example.jp', { lookup });
 * spf.lookups // 7
 * spf.ending  // '~all'
 */
export async function checkSpf(domain: string, deps: { readonly lookup: DnsLookup }): Promise<SpfReport> {
  const problems: SpfProblem[] = [];
  const troubles: DnsTrouble[] = [];
  let lookups = 0;
  let read = 0;
  let own: string[] = [];

  // Returns the `all` term in effect for this record (through its redirect), for the ending.
  async function walk(name: string, via: string | null, chain: readonly string[]): Promise<SpfTerm | null> {
    read++;
    const txt = await fetchRecords(deps.lookup, name, 'TXT');
    if (txt.kind === 'error') {
      troubles.push({ name, type: 'TXT', code: txt.code });
      return null;
    }
    const records = txt.kind === 'records' ? txt.records.map(txtText).filter(isSpfRecord) : [];
    if (via === null) own = records;
    if (records.length === 0) {
      problems.push({ kind: 'missing', domain: name, via });
      return null;
    }
    if (records.length > 1) {
      problems.push({ kind: 'multiple', domain: name, via, count: records.length });
      return null;
    }
    const parsed = parseSpf(records[0]!);
    if (!parsed.ok) {
      problems.push({ kind: 'syntax', domain: name, via, term: parsed.term, problem: parsed.problem });
      return null;
    }
    const all = parsed.terms.find((t) => t.kind === 'mechanism' && t.name === 'all') ?? null;
    if (all && all.kind === 'mechanism' && all.qualifier === '+') problems.push({ kind: 'allows-all', domain: name, via, term: all.text });
    let redirect: string | null = null;
    for (const term of parsed.terms) {
      if (!DNS_TERMS.has(term.name)) continue;
      if (term.kind === 'modifier' && term.name === 'redirect') {
        if (all) continue; // ignored when the record has an `all` (RFC 7208 §6.1)
        lookups++;
        redirect = term.value;
        continue;
      }
      if (term.kind !== 'mechanism') continue;
      lookups++;
      if (term.name === 'include' && term.value !== null) await follow(term.value, name, chain);
    }
    if (redirect !== null) {
      const target = followable(redirect);
      if (target === null) return null;
      if (chain.includes(target)) {
        problems.push({ kind: 'loop', domain: target, via: name });
        return null;
      }
      if (chain.length >= MAX_INCLUDE_DEPTH || read >= MAX_RECORDS_READ) return null;
      return walk(target, name, [...chain, target]);
    }
    return all;
  }

  function followable(spec: string): string | null {
    if (spec.includes('%')) return null;
    return lookupName(spec);
  }

  // An included record's own `all` decides nothing for the includer, except that `+all` there
  // makes the include match every server (RFC 7208 §5.2): walk() reports that as allows-all.
  async function follow(spec: string, from: string, chain: readonly string[]): Promise<void> {
    const target = followable(spec);
    if (target === null) return;
    if (chain.includes(target)) {
      problems.push({ kind: 'loop', domain: target, via: from });
      return;
    }
    if (chain.length >= MAX_INCLUDE_DEPTH || read >= MAX_RECORDS_READ) return;
    await walk(target, from, [...chain, target]);
  }

  const name = lookupName(domain) ?? domain;
  const all = await walk(name, null, [name]);
  const ending = all && all.kind === 'mechanism' ? (`${all.qualifier}all` as SpfReport['ending']) : null;
  return { domain: name, records: own, lookups, ending, problems, troubles };
}
