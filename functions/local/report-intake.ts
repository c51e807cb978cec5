/**
 * DMARC aggregate and TLS reports in the local intake: the hook the bounce intake (intake.ts)
 * calls for each message before the bounce classifier. A report mail (to `dmarc@`/`tlsrpt@`
 * the bounce domain, marked as a report, or carrying report files) is read here: its reports
 * recorded (core/dmarc/record.ts: history, the domain's memory, one alert per change), the
 * sources' reverse names looked up through the DNS port. Anything else comes back null and
 * goes on to the bounce classifier. What could not be read is named in the outcome; the intake
 * keeps such a message under `kept/` when it gave no report at all.
 */
import { readReportMail } from '#adapters/report-reader.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { reportDay, reportDomains } from '#core/dmarc/model.ts';
import type { ReportProblem } from '#core/dmarc/problems.ts';
import { recordMailReports, type ReportMailDeps } from '#core/dmarc/record-mail.ts';
import { targetOfDomain } from '#core/dmarc/targets.ts';
import type { Finding, Language } from '#core/findings.ts';

/** One report of a report mail, as the intake tells it. */
export interface IntakeReport {
  readonly kind: 'dmarc' | 'tlsrpt';
  readonly org: string;
  readonly reportId: string;
  readonly domains: readonly string[];
  readonly day: string;
  /** The target it is about; null: no target (kept, never alerted). */
  readonly target: string | null;
  /** False when the same report was read before. */
  readonly first: boolean;
  readonly messages: number;
  readonly findings: readonly Finding[];
}

/** What the intake did with a report mail. */
export interface ReportIntakeResult {
  readonly reports: readonly IntakeReport[];
  readonly problems: readonly { readonly name: string; readonly problem: ReportProblem }[];
  /** The alerts it raised (the outbox takes them). */
  readonly events: readonly AlertEvent[];
}

/** Reads a message as a report mail; null when it is not one. Rejects only on a store failure (the message is then tried again). */
export type ReportReader = (raw: Uint8Array, message: { readonly source: string; readonly rawRef: string; readonly receivedAt: string }) => Promise<ReportIntakeResult | null>;

/** What the report intake needs: the bounce domain (report mail is addressed there) and what recording needs. */
export interface ReportIntakeOptions extends ReportMailDeps {
  readonly bounceDomain: string;
}

/**
 * Creates the report reader of a local runtime.
 * @example const reports = createReportReader({ bounceDomain, targets: config.targets, store, reports: createDmarcFileStore({ dir }), clock, random, lookup });
 */
export function createReportReader(options: ReportIntakeOptions): ReportReader {
  return async (raw, message) => {
    const read = await readReportMail(raw, { now: options.clock(), bounceDomain: options.bounceDomain, name: message.source });
    if (read === null) return null;
    const { events, recorded } = await recordMailReports(
      read.reports.map((r) => r.report),
      { source: message.rawRef, receivedAt: message.receivedAt },
      options,
    );
    const reports: IntakeReport[] = recorded.map(({ report, recorded: r }) => {
      const domains = reportDomains(report);
      return {
        kind: report.kind,
        org: report.org,
        reportId: report.reportId,
        domains,
        day: reportDay(report),
        target: domains.map((d) => targetOfDomain(options.targets, d)).find((t) => t !== null) ?? null,
        first: r.first,
        messages: r.summaries.reduce((n, x) => n + (report.kind === 'dmarc' ? x.messages : (x.tls?.successful ?? 0) + (x.tls?.failed ?? 0)), 0),
        findings: r.summaries.flatMap((x) => x.findings),
      };
    });
    return { reports, problems: read.problems, events };
  };
}

const TEXT = {
  report: { en: 'report ←', ja: 'レポート ←' },
  again: { en: 'read before', ja: '読み込み済み' },
  noTarget: { en: 'not a target: kept, not alerted', ja: '対象外: 記録のみ（通知なし）' },
  messages: { en: 'messages', ja: '通' },
  sessions: { en: 'TLS sessions', ja: '回の TLS 接続' },
  refused: { en: 'not readable', ja: '読めません' },
} as const;

/** The terminal lines of a report mail the intake read (plain text; the caller colours nothing). */
export function reportOutcomeLines(result: ReportIntakeResult, source: string, lang: Language): string[] {
  const lines: string[] = [];
  for (const r of result.reports) {
    const what = r.kind === 'dmarc' ? `DMARC ${r.org}` : `TLS-RPT ${r.org}`;
    const count = `${r.messages} ${TEXT[r.kind === 'dmarc' ? 'messages' : 'sessions'][lang]}`;
    const codes = r.findings.length > 0 ? ` → ${[...new Set(r.findings.map((f) => f.code))].join(', ')}` : '';
    const note = !r.first ? TEXT.again[lang] : r.target === null ? TEXT.noTarget[lang] : r.target;
    lines.push(`  ${TEXT.report[lang]} ${what} ${r.domains.join(', ')} ${r.day}: ${count}${codes}  (${note})`);
  }
  for (const p of result.problems) lines.push(`  ${TEXT.report[lang]} ${p.name}: ${TEXT.refused[lang]}: ${p.problem.code} ${p.problem.message}  (${source})`);
  return lines;
}
