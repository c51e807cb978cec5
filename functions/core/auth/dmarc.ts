/**
 * DMARC (RFC 7489) from the sender's side: the policy record at `_dmarc.<domain>` (or at a parent
 * domain, whose policy covers its subdomains), whether receivers can read it, and what it asks
 * them to do with mail that fails.
 */
import type { DnsLookup } from '../resolver.ts';
import { fetchRecords, lookupName, txtText, type DnsTrouble } from './dns.ts';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

/** A parsed DMARC record, or what is wrong with it. */
export type DmarcParse =
  | { readonly ok: true; readonly policy: DmarcPolicy; readonly subdomainPolicy: DmarcPolicy | null; readonly pct: number; readonly tags: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly problem: string };

const POLICIES = new Set(['none', 'quarantine', 'reject']);

/** Whether a TXT record claims to be DMARC (`v=DMARC1` first). */
export function isDmarcRecord(text: string): boolean {
  return /^\s*v\s*=\s*DMARC1\s*(;|$)/i.test(text);
}

// What each known tag may hold (RFC 7489 §6.3); unknown tags are ignored, as receivers must.
const TAG_RULES: Record<string, { test: (v: string) => boolean; expect: string }> = {
  p: { test: (v) => POLICIES.has(v.toLowerCase()), expect: 'none, quarantine or reject' },
  sp: { test: (v) => POLICIES.has(v.toLowerCase()), expect: 'none, quarantine or reject' },
  adkim: { test: (v) => /^[rs]$/i.test(v), expect: 'r or s' },
  aspf: { test: (v) => /^[rs]$/i.test(v), expect: 'r or s' },
  pct: { test: (v) => /^\d{1,3}$/.test(v) && Number(v) <= 100, expect: 'a whole number from 0 to 100' },
  ri: { test: (v) => /^\d{1,10}$/.test(v), expect: 'a number of seconds' },
  fo: { test: (v) => /^[01ds](:[01ds])*$/i.test(v), expect: '0, 1, d or s, separated by colons' },
  rf: { test: (v) => /^[a-z0-9-]+(:[a-z0-9-]+)*$/i.test(v), expect: 'report format names such as afrf' },
  rua: { test: (v) => v.split(',').every((u) => /^\s*[a-z][a-z0-9+.-]*:[^\s!]+(![0-9]+[kmgt]?)?\s*$/i.test(u)), expect: 'comma-separated URIs such as mailto:dmarc@example.jp' },
  ruf: { test: (v) => v.split(',').every((u) => /^\s*[a-z][a-z0-9+.-]*:[^\s!]+(![0-9]+[kmgt]?)?\s*$/i.test(u)), expect: 'comma-separated URIs such as mailto:dmarc@example.jp' },
};

/**
 * Parses a DMARC record (RFC 7489 §6.4): `v=DMARC1` first, then `p=` (required), then any other
 * tags, separated by semicolons.
 * @example parseDmarc('v=DMARC1; p=reject; rua=mailto:dmarc@example.jp') // { ok: true, policy: 'reject', … }
 * @example parseDmarc('v=DMARC1; p=rejet') // { ok: false, problem: 'p=rejet: expected none, quarantine or reject' }
 */
export function parseDmarc(record: string): DmarcParse {
  const parts = record.split(';').map((p) => p.trim());
  if (parts.at(-1) === '') parts.pop();
  const tags: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const m = /^([a-z][a-z0-9_]*)\s*=\s*(.*)$/i.exec(part);
    if (!m) return { ok: false, problem: part === '' ? 'an empty part between semicolons' : `"${part}" is not a tag=value pair` };
    const name = m[1]!.toLowerCase();
    const value = m[2]!.trim();
    if (i === 0 && (name !== 'v' || value !== 'DMARC1')) return { ok: false, problem: 'the record must start with v=DMARC1' };
    if (i === 1 && name !== 'p') return { ok: false, problem: `p= must come right after v=DMARC1 (found ${name}= there)` };
    if (name in tags) return { ok: false, problem: `${name}= appears more than once` };
    const rule = TAG_RULES[name];
    if (rule && !rule.test(value)) return { ok: false, problem: `${name}=${value}: expected ${rule.expect}` };
    tags[name] = value;
  }
  if (tags.p === undefined) return { ok: false, problem: 'the policy tag p= is missing' };
  return {
    ok: true,
    policy: tags.p.toLowerCase() as DmarcPolicy,
    subdomainPolicy: tags.sp ? (tags.sp.toLowerCase() as DmarcPolicy) : null,
    pct: tags.pct === undefined ? 100 : Number(tags.pct),
    tags,
  };
}

/** The DMARC facts of a domain. */
export interface DmarcReport {
  readonly domain: string;
  /** The record that applies, or null when none does. */
  readonly record: string | null;
  /** Where it was found: the domain itself, or the parent whose policy covers it. */
  readonly foundAt: string | null;
  /** The policy in effect for this domain (`sp=` when the record is a parent's). */
  readonly policy: DmarcPolicy | null;
  readonly problem: { readonly kind: 'missing' } | { readonly kind: 'syntax'; readonly detail: string } | { readonly kind: 'multiple'; readonly count: number } | null;
  readonly troubles: readonly DnsTrouble[];
}

/**
 * Finds the DMARC record that applies to a domain: `_dmarc.<domain>`, else the nearest parent
 * (the organizational domain's policy covers its subdomains; without a public suffix list the
 * walk goes up to the second-level name, as DMARCbis' tree walk does).
 * @example (await checkDmarc('shop.example.jp', { lookup })).policy // 'quarantine'
 */
export async function checkDmarc(domain: string, deps: { readonly lookup: DnsLookup }): Promise<DmarcReport> {
  const name = lookupName(domain) ?? domain;
  const labels = name.split('.');
  const troubles: DnsTrouble[] = [];
  for (let i = 0; i <= labels.length - 2; i++) {
    const at = labels.slice(i).join('.');
    const txt = await fetchRecords(deps.lookup, `_dmarc.${at}`, 'TXT');
    if (txt.kind === 'error') {
      troubles.push({ name: `_dmarc.${at}`, type: 'TXT', code: txt.code });
      return { domain: name, record: null, foundAt: null, policy: null, problem: null, troubles };
    }
    const records = txt.kind === 'records' ? txt.records.map(txtText).filter(isDmarcRecord) : [];
    if (records.length === 0) continue;
    const base = { domain: name, record: records[0]!, foundAt: at, troubles };
    // RFC 7489 §6.6.3: more than one record means no policy at all.
    if (records.length > 1) return { ...base, policy: null, problem: { kind: 'multiple', count: records.length } };
    const parsed = parseDmarc(records[0]!);
    if (!parsed.ok) return { ...base, policy: null, problem: { kind: 'syntax', detail: parsed.problem } };
    const policy = at === name ? parsed.policy : (parsed.subdomainPolicy ?? parsed.policy);
    return { ...base, policy, problem: null };
  }
  return { domain: name, record: null, foundAt: null, policy: null, problem: { kind: 'missing' }, troubles };
}
