/**
 * The entry point the local intake and the bounce Lambda call for each report they read: keep
 * its record, apply it to the domain's memory, and raise the alerts of what changed, exactly
 * once. A report read twice (a retried Lambda, the same mail delivered twice, the same file in
 * the folder again) changes nothing the second time: its key is claimed once it is applied.
 * A report about a domain that is no target is kept and shown, never alerted.
 */
import { DMARC_ALERT_SOURCES, type AlertEvent, type DmarcAlert } from '../alert/event.ts';
import { newCanaryId } from '../canary-id.ts';
import { StateError } from '../errors.ts';
import { fingerprint } from '../fingerprint.ts';
import type { Status } from '../findings.ts';
import { CLAIM_TTL_SECONDS, raisedAlone } from '../health/record.ts';
import type { Clock, DmarcStore, RandomSource, Store } from '../ports.ts';
import type { ParsedReport } from './model.ts';
import { reportDay, reportDomains, reportKey } from './model.ts';
import { applyReport, emptyDomainState, type DmarcChange } from './state.ts';
import type { DmarcReportRecord } from './report-record.ts';
import type { DomainSummary } from './summary.ts';

/** Sources kept per report record (a big sender's report lists thousands; the busiest tell the story). */
export const RECORD_SOURCES = 200;

/** What recording needs. */
export interface DmarcRecordDeps {
  /** The claims of once-only alerts and reports. */
  readonly store: Store;
  readonly reports: DmarcStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Reverse names of the sources, looked up by the shell (null: none). */
  readonly ptrOf: (ip: string) => string | null;
  /** The target whose `from` is at a domain; null: no target (kept, not alerted). */
  readonly targetOf: (domain: string) => string | null;
  /** Where the report's message or file is kept. */
  readonly source?: string;
  /** When it arrived (ISO). @default now */
  readonly receivedAt?: string;
}

/** What recording one report did. */
export interface RecordedReport {
  /** False when the report was recorded before: nothing else happened. */
  readonly first: boolean;
  readonly events: readonly AlertEvent[];
  /** Per domain of the report: its summary with what the memory knew. */
  readonly summaries: readonly DomainSummary[];
}

// Two intakes meet on a domain's memory when receivers' reports arrive at the same moment.
const MAX_STATE_ATTEMPTS = 20;


function recordOf(report: ParsedReport, summary: DomainSummary, deps: DmarcRecordDeps, receivedAt: string): DmarcReportRecord {
  return {
    key: report.kind === 'dmarc' ? reportKey(report) : `${reportKey(report)}@${summary.domain}`,
    kind: report.kind,
    domain: summary.domain,
    target: deps.targetOf(summary.domain),
    day: reportDay(report),
    begin: report.begin,
    end: report.end,
    org: report.org,
    reportId: report.reportId,
    receivedAt,
    source: deps.source ?? null,
    messages: summary.messages,
    passed: summary.passed,
    policy: summary.policy?.p ?? null,
    sources: [...summary.sources]
      .sort((a, b) => b.count - a.count)
      .slice(0, RECORD_SOURCES)
      .map((s) => ({ ip: s.ip, ptr: s.ptr, sender: s.sender, count: s.count, dmarc: s.dmarc, spf: s.spf, dkim: s.dkim, known: s.known, disposition: s.disposition })),
    tls: summary.tls ? { successful: summary.tls.successful, failed: summary.tls.failed, failures: summary.tls.failures.map((f) => ({ resultType: f.resultType, mx: f.mx, count: f.count })) } : null,
    findings: summary.findings.map((f) => ({ code: f.code, severity: f.severity })),
  };
}

function statusOfChange(change: DmarcChange): Status {
  if (change.kind === 'passing' || change.kind === 'tls-ok') return 'ok';
  return change.finding?.severity === 'critical' ? 'critical' : 'warning';
}

/** The alert of one change. */
export function dmarcAlertOf(change: DmarcChange, ctx: { readonly target: string; readonly report: ParsedReport; readonly policy: string | null; readonly at: string; readonly incidentId: string }): DmarcAlert {
  const base = `dmarc#${change.domain}#${change.kind}`;
  const sources = 'sources' in change ? [...change.sources].sort((a, b) => b.count - a.count).slice(0, DMARC_ALERT_SOURCES) : [];
  const common = {
    kind: 'dmarc' as const,
    incidentId: ctx.incidentId,
    target: ctx.target,
    at: ctx.at,
    startedAt: ctx.report.begin,
    status: statusOfChange(change),
    findings: change.finding ? [change.finding] : [],
    domain: change.domain,
    day: change.day,
    reporter: ctx.report.org,
    sources: sources.map((s) => ({ ip: s.ip, ptr: s.ptr, count: s.count, spf: s.spf, dkim: s.dkim, disposition: s.disposition })),
    policy: ctx.policy,
  };
  switch (change.kind) {
    case 'failing':
    case 'passing':
      return { ...common, key: `${base}#${change.key}#${change.day}`, change: change.kind, sender: change.sender.sender, senders: [], messages: change.kind === 'failing' ? change.sender.failed : change.sender.passed };
    case 'unknown': {
      const labels = change.senders.map((s) => s.sender).sort();
      return { ...common, key: `${base}#${fingerprint(labels.join('|'))}#${change.day}`, change: 'unknown', sender: null, senders: labels, messages: change.senders.reduce((n, s) => n + s.failed, 0) };
    }
    case 'tls-failing':
    case 'tls-ok':
      return { ...common, key: `${base}#${change.day}`, change: change.kind, sender: null, senders: [], messages: change.sessions };
  }
}

/**
 * Records one report: its record per domain, the domains' memory, and the alerts of what
 * changed for domains that are targets (each claimed once).
 * @example
 * const { events } = await recordReport(report, { store, reports, clock, random, ptrOf, targetOf, source: 'raw/2026-03-02/x.eml' });
 * await outbox.enqueue(events);
 */
export async function recordReport(report: ParsedReport, deps: DmarcRecordDeps): Promise<RecordedReport> {
  const claimKey = `dmarc-report#${reportKey(report)}`;
  if ((await deps.store.claimedUntil(claimKey)) !== null) return { first: false, events: [], summaries: [] };
  const now = deps.clock().toISOString();
  const receivedAt = deps.receivedAt ?? now;
  const events: AlertEvent[] = [];
  const summaries: DomainSummary[] = [];
  for (const domain of reportDomains(report)) {
    let applied: ReturnType<typeof applyReport> | null = null;
    for (let attempt = 0; attempt < MAX_STATE_ATTEMPTS && applied === null; attempt++) {
      const current = await deps.reports.getDomainState(domain);
      const next = applyReport(current?.value ?? emptyDomainState(domain, now), report, domain, { ptrOf: deps.ptrOf, at: now });
      if (await deps.reports.putDomainState(domain, next.state, current?.version ?? null)) applied = next;
    }
    if (applied === null) throw new StateError(`the DMARC memory of ${domain} changed under every one of ${MAX_STATE_ATTEMPTS} attempts`);
    const target = deps.targetOf(domain);
    await deps.reports.appendReport(recordOf(report, { ...applied.summary, target }, deps, receivedAt));
    summaries.push({ ...applied.summary, target });
    if (target === null) continue;
    // Raised with their claims (in AWS into the table's outbox, so a stop before publishing delays them, never loses them).
    const changed = applied.changes.map((change) => dmarcAlertOf(change, { target, report, policy: applied.policy?.p ?? null, at: now, incidentId: newCanaryId(deps.clock().getTime(), deps.random(10)) }));
    events.push(...(await raisedAlone(changed, deps.store)));
  }
  // Claimed last: a crash before this point applies the report again (the memory is idempotent
  // for the same report: the same days, the same senders), and its alerts are claimed already.
  await deps.store.claim(claimKey, CLAIM_TTL_SECONDS);
  return { first: true, events, summaries };
}
