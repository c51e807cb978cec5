/**
 * A sending domain's published mail authentication, as receivers such as Gmail, Yahoo and the
 * Japanese carriers read it: SPF, DMARC, the DKIM keys of the given selectors, and MX (can the
 * domain receive replies and bounces?). The verdicts of `mailhealth dns DOMAIN` and of the
 * check every canary round runs for its `from` domain.
 */
import { statusOf, type Finding, type Status } from '../findings.ts';
import type { DnsLookup } from '../resolver.ts';
import { checkDkimKey, DKIM_MIN_RSA_BITS, DKIM_RECOMMENDED_RSA_BITS, type DkimKeyReport } from './dkim.ts';
import { checkDmarc, type DmarcReport } from './dmarc.ts';
import { fetchRecords, lookupName, type DnsTrouble } from './dns.ts';
import { authFinding, worstFirst } from './finding.ts';
import { checkReportDestinations, reportDestinationFindings, type ReportDestination } from './report-auth.ts';
import { checkSpf, SPF_LOOKUP_LIMIT, type SpfReport } from './spf.ts';

/** What to check besides SPF, DMARC and MX. */
export interface DomainCheckOptions {
  /** DKIM selectors whose keys to check (`--selector`, config `targets[].dkimSelectors`). */
  readonly selectors?: readonly string[];
}

/** The MX facts of a domain. */
export interface MxFacts {
  readonly exchanges: readonly { readonly exchange: string; readonly priority: number }[];
  /** A single MX whose exchange is the root: "this domain receives no mail" (RFC 7505). */
  readonly nullMx: boolean;
  /** The domain does not exist at all (NXDOMAIN). */
  readonly nxdomain: boolean;
}

/** The records a domain check read (the `records` of `dns --json`). */
export interface DomainRecords {
  readonly spf: { readonly records: readonly string[]; readonly lookups: number; readonly ending: string | null; readonly error?: string };
  readonly dmarc: {
    readonly record: string | null;
    readonly foundAt: string | null;
    readonly policy: string | null;
    readonly error?: string;
    /** Where its reports go (`rua=`/`ruf=` mailto:), and whether another domain authorises them; present when there are any. */
    readonly reports?: readonly ReportDestination[];
  };
  readonly mx: { readonly exchanges: MxFacts['exchanges']; readonly nullMx: boolean; readonly error?: string };
  /** Per selector; present only when selectors were given. */
  readonly dkim?: Readonly<Record<string, { readonly record: string | null; readonly keyType?: string; readonly bits?: number | null; readonly revoked?: boolean; readonly error?: string }>>;
}

/** The verdict on one domain. */
export interface DomainReport {
  readonly domain: string;
  /** ok/warning/critical from the findings; unknown when a lookup failed and nothing critical was found. */
  readonly status: Status;
  readonly records: DomainRecords;
  /** Worst first. */
  readonly findings: readonly Finding[];
  /** Lookups that got no usable answer. */
  readonly troubles: readonly DnsTrouble[];
}

/** SPF findings from the walk of a domain's SPF tree. */
export function spfFindings(spf: SpfReport): Finding[] {
  const out: Finding[] = [];
  const domain = spf.domain;
  let broken = false;
  for (const p of spf.problems) {
    switch (p.kind) {
      case 'missing':
        if (p.via === null) out.push(authFinding('SPF_MISSING', 'warning', { domain }));
        else out.push(authFinding('SPF_SYNTAX', 'critical', { variant: 'include-missing', domain, at: p.domain, via: p.via }));
        broken = true;
        break;
      case 'multiple':
        out.push(authFinding('SPF_MULTIPLE_RECORDS', 'critical', { domain, at: p.domain, count: p.count }));
        broken = true;
        break;
      case 'syntax':
        out.push(authFinding('SPF_SYNTAX', 'critical', { variant: 'syntax', domain, at: p.domain, term: p.term, problem: p.problem }));
        broken = true;
        break;
      case 'loop':
        out.push(authFinding('SPF_SYNTAX', 'critical', { variant: 'loop', domain, at: p.domain, via: p.via }));
        broken = true;
        break;
      case 'allows-all':
        out.push(authFinding('SPF_ALLOWS_ALL', 'warning', { domain, ending: '+all', via: p.domain === domain ? null : p.domain }));
        broken = true;
        break;
    }
  }
  if (spf.lookups > SPF_LOOKUP_LIMIT) {
    out.push(authFinding('SPF_TOO_MANY_LOOKUPS', 'critical', { domain, lookups: spf.lookups }));
    broken = true;
  }
  // The soft endings are worth knowing, never an alarm; they only mean something for a sound record.
  if (!broken && spf.troubles.length === 0 && spf.ending !== '-all') {
    const ending = spf.ending === '~all' || spf.ending === '?all' ? spf.ending : 'none';
    out.push(authFinding('SPF_ALLOWS_ALL', 'info', { domain, ending, via: null }));
  }
  return out;
}

/** DMARC findings from the record that applies. */
export function dmarcFindings(dmarc: DmarcReport): Finding[] {
  const { domain, problem } = dmarc;
  if (problem?.kind === 'missing') return [authFinding('DMARC_MISSING', 'warning', { domain })];
  if (problem?.kind === 'syntax') return [authFinding('DMARC_SYNTAX', 'warning', { domain, at: dmarc.foundAt ?? domain, detail: problem.detail })];
  if (problem?.kind === 'multiple') {
    return [authFinding('DMARC_SYNTAX', 'warning', { domain, at: dmarc.foundAt ?? domain, detail: `there are ${problem.count} DMARC records; receivers ignore them all` })];
  }
  if (dmarc.policy === 'none') return [authFinding('DMARC_POLICY_NONE', 'info', { domain, at: dmarc.foundAt ?? domain })];
  return [];
}

/** DKIM findings for one selector's key. */
export function dkimFindings(domain: string, report: DkimKeyReport): Finding[] {
  const { selector, name } = report;
  if (report.troubles.length > 0) return [];
  const key = report.key;
  if (key === null) return [authFinding('DKIM_KEY_MISSING', 'critical', { domain, selector, name, problem: null })];
  if (!key.ok) return [authFinding('DKIM_KEY_MISSING', 'critical', { domain, selector, name, problem: key.problem })];
  if (key.revoked) return [authFinding('DKIM_KEY_REVOKED', 'critical', { domain, selector, name })];
  if (key.keyType === 'rsa' && key.bits !== null && key.bits < DKIM_RECOMMENDED_RSA_BITS) {
    return [authFinding('DKIM_KEY_WEAK', key.bits < DKIM_MIN_RSA_BITS ? 'critical' : 'info', { domain, selector, bits: key.bits })];
  }
  return [];
}

/** Reads a domain's MX records. */
export async function checkMx(domain: string, deps: { readonly lookup: DnsLookup }): Promise<{ facts: MxFacts; troubles: DnsTrouble[] }> {
  const mx = await fetchRecords(deps.lookup, domain, 'MX');
  if (mx.kind === 'error') return { facts: { exchanges: [], nullMx: false, nxdomain: false }, troubles: [{ name: domain, type: 'MX', code: mx.code }] };
  if (mx.kind === 'none') return { facts: { exchanges: [], nullMx: false, nxdomain: mx.code === 'ENOTFOUND' }, troubles: [] };
  const exchanges = [...mx.records].sort((a, b) => a.priority - b.priority).map((r) => ({ exchange: r.exchange === '' ? '.' : r.exchange, priority: r.priority }));
  const nullMx = exchanges.length === 1 && exchanges[0]!.exchange === '.';
  return { facts: { exchanges, nullMx, nxdomain: false }, troubles: [] };
}

/** The MX finding: MX_MISSING for no MX, a null MX or a domain that does not exist. */
export function mxFindings(domain: string, mx: MxFacts, troubles: readonly DnsTrouble[]): Finding[] {
  if (troubles.length > 0) return [];
  if (mx.nullMx) return [authFinding('MX_MISSING', 'warning', { domain, variant: 'null' })];
  if (mx.exchanges.length === 0) return [authFinding('MX_MISSING', 'warning', { domain, variant: mx.nxdomain ? 'nxdomain' : 'none' })];
  return [];
}

function errorOf(troubles: readonly DnsTrouble[]): { error?: string } {
  return troubles.length > 0 ? { error: troubles.map((t) => `${t.type} ${t.name}: ${t.code}`).join('; ') } : {};
}

/**
 * Checks a domain's SPF, DMARC, MX and the DKIM keys of the given selectors, side by side.
 * Throws nothing for DNS trouble: a lookup that got no answer leaves its part unchecked
 * (`troubles`, status unknown unless something critical was found anyway).
 * @example
 * const report = await checkDomain('example.jp', { selectors: ['mail2025'] }, { lookup });
 * report.status                        // 'warning'
 * report.findings.map((f) => f.code)   // ['DMARC_MISSING', 'SPF_ALLOWS_ALL']
 */
export async function checkDomain(domain: string, options: DomainCheckOptions, deps: { readonly lookup: DnsLookup }): Promise<DomainReport> {
  const name = lookupName(domain) ?? domain.toLowerCase();
  const selectors = [...new Set((options.selectors ?? []).map((s) => s.toLowerCase()))];
  const [spf, { dmarc, reports }, mx, dkim] = await Promise.all([
    checkSpf(name, deps),
    // The record names where its reports go; a destination at another domain must authorise them.
    checkDmarc(name, deps).then(async (dmarc) => ({ dmarc, reports: await checkReportDestinations(dmarc.foundAt ?? name, dmarc.record, deps) })),
    checkMx(name, deps),
    Promise.all(selectors.map((s) => checkDkimKey(name, s, deps))),
  ]);
  const findings = worstFirst([
    ...spfFindings(spf),
    ...dmarcFindings(dmarc),
    ...reportDestinationFindings(dmarc.foundAt ?? name, reports.destinations),
    ...dkim.flatMap((k) => dkimFindings(name, k)),
    ...mxFindings(name, mx.facts, mx.troubles),
  ]);
  const troubles = [...spf.troubles, ...dmarc.troubles, ...reports.troubles, ...mx.troubles, ...dkim.flatMap((k) => k.troubles)];
  const records: DomainRecords = {
    spf: { records: spf.records, lookups: spf.lookups, ending: spf.ending, ...errorOf(spf.troubles) },
    dmarc: { record: dmarc.record, foundAt: dmarc.foundAt, policy: dmarc.policy, ...errorOf([...dmarc.troubles, ...reports.troubles]), ...(reports.destinations.length > 0 ? { reports: reports.destinations } : {}) },
    mx: { exchanges: mx.facts.exchanges, nullMx: mx.facts.nullMx, ...errorOf(mx.troubles) },
    ...(selectors.length > 0
      ? {
          dkim: Object.fromEntries(
            dkim.map((k) => [
              k.selector,
              {
                record: k.record,
                ...(k.key?.ok ? { keyType: k.key.keyType, bits: k.key.bits, revoked: k.key.revoked } : {}),
                ...errorOf(k.troubles),
              },
            ]),
          ),
        }
      : {}),
  };
  const status = statusOf(findings);
  return { domain: name, status: troubles.length > 0 && status !== 'critical' ? 'unknown' : status, records, findings, troubles };
}
