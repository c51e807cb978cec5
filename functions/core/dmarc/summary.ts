/**
 * What a set of reports tells per domain and day: every sending source (address, reverse name,
 * organisation, messages), its SPF and DKIM results and whether they aligned, the receivers'
 * disposition; which sources are the domain's own mail (a known sender: its mail passed DMARC
 * aligned on some day) and which are others; the findings with what to do; and what DMARC
 * policy to publish next. Pure: reverse names and the remembered senders are inputs.
 */
import { statusOf, type Finding, type Status } from '../findings.ts';
import { worstFirst } from '../auth/finding.ts';
import type { DmarcAggregateReport, DmarcRow, ParsedReport, PublishedPolicy, TlsReport } from './model.ts';
import { reportDay } from './model.ts';
import { recommendPolicy, type PolicyRecommendation } from './policy.ts';
import { senderOf } from './sources.ts';
import { failText, tlsText, unknownText, type NamedSender } from './texts.ts';

/** One source line: mail from one address with one set of results (the `dmarc --json` `sources`). */
export interface SourceLine {
  readonly ip: string;
  readonly ptr: string | null;
  readonly org: string | null;
  /** Who it is: the organisation, the reverse name's domain, or the network. */
  readonly sender: string;
  readonly count: number;
  /** Raw SPF result (for the envelope domain), `none` when the report gives none. */
  readonly spf: string;
  /** Raw DKIM result: `pass` when any signature verified, else the first result, else `none`. */
  readonly dkim: string;
  /** The DMARC verdict: pass when SPF or DKIM passed aligned with the From domain. */
  readonly dmarc: 'pass' | 'fail';
  readonly spfAligned: boolean;
  readonly dkimAligned: boolean;
  /** The most severe disposition applied: `none`, `quarantine`, `reject`. */
  readonly disposition: string;
  /** The domain's own mail: this sender passed DMARC aligned (in these reports or before). */
  readonly known: boolean;
  /** The receiver saw forwarding or a mailing list (policy override reasons): not the sender's fault. */
  readonly forwarded: boolean;
  readonly days: readonly string[];
  readonly reporters: readonly string[];
}

/** One sender (its addresses together): the domain's own mail, or someone else. */
export interface SenderSummary {
  /** The organisation, the reverse name's domain, or the network. */
  readonly sender: string;
  readonly org: string | null;
  /** The keys it is remembered by (sources.ts `senderOf`). */
  readonly keys: readonly string[];
  readonly known: boolean;
  readonly messages: number;
  /** Passed DMARC. */
  readonly passed: number;
  /** Failed DMARC, without the mail the receiver saw forwarded. */
  readonly failed: number;
  readonly ips: readonly string[];
  /** DMARC_REPORT_FAIL for a known sender that fails; null otherwise. */
  readonly finding: Finding | null;
}

/** Messages of a domain on one day. */
export interface DaySummary {
  readonly day: string;
  readonly messages: number;
  /** Passed DMARC. */
  readonly passed: number;
}

/** A domain's TLS reports. */
export interface TlsSummary {
  readonly successful: number;
  readonly failed: number;
  readonly enforced: boolean;
  readonly reporters: readonly string[];
  readonly failures: readonly { readonly resultType: string; readonly mx: string | null; readonly count: number; readonly days: readonly string[] }[];
  readonly days: readonly { readonly day: string; readonly successful: number; readonly failed: number }[];
}

/** Everything the reports tell about one domain. */
export interface DomainSummary {
  readonly domain: string;
  /** The config target whose `from` is at this domain; null when none (shown, never alerted). */
  readonly target: string | null;
  readonly status: Status;
  readonly messages: number;
  readonly passed: number;
  readonly reporters: readonly string[];
  /** The policy the latest DMARC report found published; null without DMARC reports. */
  readonly policy: PublishedPolicy | null;
  readonly days: readonly DaySummary[];
  /** Failing first, then the busiest. */
  readonly sources: readonly SourceLine[];
  /** The senders: known (the domain's own mail) first, then the busiest. */
  readonly senders: readonly SenderSummary[];
  readonly tls: TlsSummary | null;
  /** Worst first. */
  readonly findings: readonly Finding[];
  /** Null without DMARC reports. */
  readonly recommendation: PolicyRecommendation | null;
}

/** What the summary needs besides the reports. */
export interface SummaryInputs {
  /** The reverse name of a source address (null: none, or not looked up). */
  readonly ptrOf: (ip: string) => string | null;
  /** The sender keys remembered as known for a domain (the state's history); empty without one. */
  readonly knownOf?: (domain: string) => ReadonlySet<string>;
  /** The target a domain belongs to. */
  readonly targetOf?: (domain: string) => string | null;
}

// Receivers name these when mail failed only because someone passed it on.
const FORWARDING_REASONS = new Set(['forwarded', 'trusted_forwarder', 'mailing_list']);
const DISPOSITION_RANK: Record<string, number> = { none: 0, quarantine: 1, reject: 2 };

/** The DMARC verdict and raw results of one row. */
export function rowVerdict(row: DmarcRow): { dmarc: 'pass' | 'fail'; spf: string; dkim: string; forwarded: boolean } {
  const mfrom = row.spf.find((s) => s.scope === null || s.scope === 'mfrom') ?? row.spf[0];
  const dkim = row.dkim.some((d) => d.result === 'pass') ? 'pass' : (row.dkim[0]?.result ?? 'none');
  return {
    dmarc: row.dkimAligned || row.spfAligned ? 'pass' : 'fail',
    spf: mfrom?.result ?? 'none',
    dkim,
    forwarded: row.reasons.some((r) => FORWARDING_REASONS.has(r.type)),
  };
}

const add = <K>(map: Map<K, number>, key: K, n: number) => map.set(key, (map.get(key) ?? 0) + n);
const sorted = (set: Iterable<string>) => [...new Set(set)].sort();

interface SourceAcc {
  ip: string;
  ptr: string | null;
  org: string | null;
  sender: string;
  keys: readonly string[];
  count: number;
  spf: string;
  dkim: string;
  dmarc: 'pass' | 'fail';
  spfAligned: boolean;
  dkimAligned: boolean;
  disposition: string;
  forwarded: boolean;
  days: Set<string>;
  reporters: Set<string>;
  dkimDomains: Set<string>;
  spfDomains: Set<string>;
  spfPassed: boolean;
  quarantined: number;
  rejected: number;
}

interface DomainAcc {
  dmarc: DmarcAggregateReport[];
  tls: { report: TlsReport; policy: TlsReport['policies'][number] }[];
}

function byDomain(reports: readonly ParsedReport[]): Map<string, DomainAcc> {
  const out = new Map<string, DomainAcc>();
  const of = (d: string) => out.get(d) ?? out.set(d, { dmarc: [], tls: [] }).get(d)!;
  for (const r of reports) {
    if (r.kind === 'dmarc') of(r.domain).dmarc.push(r);
    else for (const p of r.policies) of(p.domain).tls.push({ report: r, policy: p });
  }
  return out;
}

/** The keys of every sender that passed aligned in these DMARC reports, per domain. */
export function passingKeys(reports: readonly ParsedReport[], ptrOf: (ip: string) => string | null): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of reports) {
    if (r.kind !== 'dmarc') continue;
    const keys = out.get(r.domain) ?? out.set(r.domain, new Set()).get(r.domain)!;
    for (const row of r.rows) if (row.count > 0 && rowVerdict(row).dmarc === 'pass') for (const k of senderOf(row.sourceIp, ptrOf(row.sourceIp)).keys) keys.add(k);
  }
  return out;
}

function sourcesOf(reports: readonly DmarcAggregateReport[], inputs: SummaryInputs, known: ReadonlySet<string>): SourceAcc[] {
  const lines = new Map<string, SourceAcc>();
  for (const r of reports) {
    const day = reportDay(r);
    for (const row of r.rows) {
      const v = rowVerdict(row);
      const key = [row.sourceIp, v.dmarc, v.spf, v.dkim, row.spfAligned, row.dkimAligned, v.forwarded].join('|');
      let acc = lines.get(key);
      if (!acc) {
        const ptr = inputs.ptrOf(row.sourceIp);
        const who = senderOf(row.sourceIp, ptr);
        acc = {
          ip: row.sourceIp,
          ptr,
          org: who.org,
          sender: who.label,
          keys: who.keys,
          count: 0,
          spf: v.spf,
          dkim: v.dkim,
          dmarc: v.dmarc,
          spfAligned: row.spfAligned,
          dkimAligned: row.dkimAligned,
          disposition: 'none',
          forwarded: v.forwarded,
          days: new Set(),
          reporters: new Set(),
          dkimDomains: new Set(),
          spfDomains: new Set(),
          spfPassed: false,
          quarantined: 0,
          rejected: 0,
        };
        lines.set(key, acc);
      }
      acc.count += row.count;
      acc.days.add(day);
      acc.reporters.add(r.org);
      if ((DISPOSITION_RANK[row.disposition] ?? 0) > (DISPOSITION_RANK[acc.disposition] ?? 0)) acc.disposition = row.disposition;
      if (row.disposition === 'quarantine') acc.quarantined += row.count;
      if (row.disposition === 'reject') acc.rejected += row.count;
      for (const d of row.dkim) if (d.domain) acc.dkimDomains.add(d.domain);
      for (const s of row.spf) {
        if (s.domain) acc.spfDomains.add(s.domain);
        if (s.result === 'pass') acc.spfPassed = true;
      }
    }
  }
  const isKnown = (a: SourceAcc) => a.keys.some((k) => known.has(k));
  return [...lines.values()].sort((a, b) => (a.dmarc === b.dmarc ? 0 : a.dmarc === 'fail' ? -1 : 1) || Number(isKnown(b)) - Number(isKnown(a)) || b.count - a.count || a.ip.localeCompare(b.ip));
}

function named(accs: readonly SourceAcc[]): NamedSender {
  return { label: accs[0]!.sender, ips: sorted(accs.map((a) => a.ip)), count: accs.reduce((n, a) => n + a.count, 0) };
}

/**
 * DMARC_REPORT_UNKNOWN_SOURCE for senders that never passed DMARC for the domain.
 * @example unknownSourcesFinding('example.jp', [{ label: '198.51.100.0/24', ips: ['198.51.100.77'], count: 3 }])
 */
export function unknownSourcesFinding(domain: string, senders: readonly NamedSender[]): Finding {
  const sortedSenders = [...senders].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  const text = unknownText({ domain, senders: sortedSenders, senderCount: sortedSenders.length, messages: sortedSenders.reduce((n, s) => n + s.count, 0) });
  return { code: 'DMARC_REPORT_UNKNOWN_SOURCE', severity: 'warning', ...text };
}

/** The senders of a domain with their findings: one DMARC_REPORT_FAIL per known sender that fails. */
function sendersOf(domain: string, sources: readonly SourceAcc[], known: ReadonlySet<string>): SenderSummary[] {
  const isKnown = (a: SourceAcc) => a.keys.some((k) => known.has(k));
  const groups = new Map<string, SourceAcc[]>();
  for (const s of sources) groups.set(s.sender, [...(groups.get(s.sender) ?? []), s]);
  const out: SenderSummary[] = [];
  for (const [sender, all] of groups) {
    const failing = all.filter((a) => a.dmarc === 'fail' && !a.forwarded && a.count > 0);
    const senderKnown = all.some(isKnown);
    let finding: Finding | null = null;
    if (senderKnown && failing.length > 0) {
      const text = failText({
        domain,
        sender: named(failing),
        total: all.reduce((n, a) => n + a.count, 0),
        days: sorted(failing.flatMap((a) => [...a.days])),
        dkimDomains: sorted(failing.flatMap((a) => [...a.dkimDomains])),
        spfDomains: sorted(failing.flatMap((a) => [...a.spfDomains])),
        spfPassedUnaligned: failing.some((a) => a.spfPassed),
        quarantined: failing.reduce((n, a) => n + a.quarantined, 0),
        rejected: failing.reduce((n, a) => n + a.rejected, 0),
      });
      finding = { code: 'DMARC_REPORT_FAIL', severity: 'critical', ...text };
    }
    out.push({
      sender,
      org: all[0]!.org,
      keys: [...new Set(all.flatMap((a) => a.keys))],
      known: senderKnown,
      messages: all.reduce((n, a) => n + a.count, 0),
      passed: all.filter((a) => a.dmarc === 'pass').reduce((n, a) => n + a.count, 0),
      failed: failing.reduce((n, a) => n + a.count, 0),
      ips: sorted(all.map((a) => a.ip)),
      finding,
    });
  }
  return out.sort((a, b) => Number(b.known) - Number(a.known) || b.messages - a.messages || a.sender.localeCompare(b.sender));
}

function dmarcFindings(domain: string, senders: readonly SenderSummary[]): Finding[] {
  const findings = senders.flatMap((s) => (s.finding ? [s.finding] : []));
  const unknown = senders.filter((s) => !s.known && s.failed > 0).map((s) => ({ label: s.sender, ips: s.ips, count: s.failed }));
  if (unknown.length > 0) findings.push(unknownSourcesFinding(domain, unknown));
  return findings;
}

function tlsSummaryOf(domain: string, entries: DomainAcc['tls']): { summary: TlsSummary; findings: Finding[] } {
  let successful = 0;
  let failed = 0;
  let enforced = false;
  const reporters = new Set<string>();
  const failingReporters = new Set<string>();
  const failures = new Map<string, { resultType: string; mx: string | null; count: number; days: Set<string> }>();
  const days = new Map<string, { successful: number; failed: number }>();
  for (const { report, policy } of entries) {
    const day = reportDay(report);
    successful += policy.successful;
    failed += policy.failed;
    reporters.add(report.org);
    if (policy.failed > 0) failingReporters.add(report.org);
    // Under MTA-STS enforce or DANE a failed session is mail not delivered; under testing it went out anyway.
    if (policy.failed > 0 && ((policy.type === 'sts' && policy.mode === 'enforce') || policy.type === 'tlsa')) enforced = true;
    const d = days.get(day) ?? days.set(day, { successful: 0, failed: 0 }).get(day)!;
    d.successful += policy.successful;
    d.failed += policy.failed;
    for (const f of policy.failures) {
      const key = `${f.resultType}|${f.receivingMx ?? ''}`;
      const acc = failures.get(key) ?? failures.set(key, { resultType: f.resultType, mx: f.receivingMx, count: 0, days: new Set() }).get(key)!;
      acc.count += f.count;
      acc.days.add(day);
    }
  }
  const list = [...failures.values()].sort((a, b) => b.count - a.count).map((f) => ({ resultType: f.resultType, mx: f.mx, count: f.count, days: sorted(f.days) }));
  const summary: TlsSummary = {
    successful,
    failed,
    enforced,
    reporters: sorted(reporters),
    failures: list,
    days: [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, d]) => ({ day, ...d })),
  };
  if (failed === 0) return { summary, findings: [] };
  const text = tlsText({ domain, failed, total: successful + failed, reporters: sorted(failingReporters), failures: list, enforced });
  return { summary, findings: [{ code: 'TLSRPT_FAILURE', severity: enforced ? 'critical' : 'warning', ...text }] };
}

/**
 * Summarises reports per domain: sources, days, findings, the policy recommendation.
 * Domains come sorted by name.
 * @example
 * const [shop] = summarizeReports(reports, { ptrOf: (ip) => ptrs.get(ip) ?? null, targetOf: (d) => (d === 'example.jp' ? 'shop' : null) });
 * shop.findings.map((f) => f.code) // ['DMARC_REPORT_FAIL']
 */
export function summarizeReports(reports: readonly ParsedReport[], inputs: SummaryInputs): DomainSummary[] {
  const passing = passingKeys(reports, inputs.ptrOf);
  const out: DomainSummary[] = [];
  for (const [domain, acc] of [...byDomain(reports).entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const known = new Set([...(inputs.knownOf?.(domain) ?? []), ...(passing.get(domain) ?? [])]);
    const sources = sourcesOf(acc.dmarc, inputs, known);
    const dayMap = new Map<string, { messages: number; passed: number }>();
    for (const r of acc.dmarc) {
      const d = dayMap.get(reportDay(r)) ?? dayMap.set(reportDay(r), { messages: 0, passed: 0 }).get(reportDay(r))!;
      for (const row of r.rows) {
        d.messages += row.count;
        if (rowVerdict(row).dmarc === 'pass') d.passed += row.count;
      }
    }
    const tls = acc.tls.length > 0 ? tlsSummaryOf(domain, acc.tls) : null;
    const senders = sendersOf(domain, sources, known);
    const findings = worstFirst([...dmarcFindings(domain, senders), ...(tls?.findings ?? [])]);
    const latest = [...acc.dmarc].sort((a, b) => b.end.localeCompare(a.end))[0];
    const days = [...dayMap.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, d]) => ({ day, ...d }));
    const isKnown = (s: SourceAcc) => s.keys.some((k) => known.has(k));
    const lines: SourceLine[] = sources.map((s) => ({
      ip: s.ip,
      ptr: s.ptr,
      org: s.org,
      sender: s.sender,
      count: s.count,
      spf: s.spf,
      dkim: s.dkim,
      dmarc: s.dmarc,
      spfAligned: s.spfAligned,
      dkimAligned: s.dkimAligned,
      disposition: s.disposition,
      known: isKnown(s),
      forwarded: s.forwarded,
      days: sorted(s.days),
      reporters: sorted(s.reporters),
    }));
    out.push({
      domain,
      target: inputs.targetOf?.(domain) ?? null,
      status: statusOf(findings),
      messages: days.reduce((n, d) => n + d.messages, 0),
      passed: days.reduce((n, d) => n + d.passed, 0),
      reporters: sorted([...acc.dmarc.map((r) => r.org), ...acc.tls.map((t) => t.report.org)]),
      policy: latest?.policy ?? null,
      days,
      sources: lines,
      senders,
      tls: tls?.summary ?? null,
      findings,
      recommendation: latest ? recommendPolicy({ domain, policy: latest.policy, sources: lines, days: days.length }) : null,
    });
  }
  return out;
}
