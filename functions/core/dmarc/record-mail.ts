/**
 * Recording the reports one received mail held, for both shells (the local intake and the
 * bounce Lambda): the sources' reverse names looked up once for the whole mail, then each
 * report recorded (record.ts) against the targets whose `from` domain it is about.
 */
import type { AlertEvent } from '../alert/event.ts';
import type { Clock, DmarcStore, DnsLookup, RandomSource, Store } from '../ports.ts';
import type { ParsedReport } from './model.ts';
import { reverseNames } from './ptr.ts';
import { recordReport, type RecordedReport } from './record.ts';
import { targetOfDomain } from './targets.ts';

/** What recording a mail's reports needs. */
export interface ReportMailDeps {
  readonly targets: readonly { readonly name: string; readonly from: string }[];
  readonly store: Store;
  readonly reports: DmarcStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** DNS for the sources' reverse names; null: not looked up (the demo, tests). */
  readonly lookup: DnsLookup | null;
  /** At most this many reverse names per mail. @default ptr.ts's */
  readonly maxPtrLookups?: number;
}

/** One report of the mail and what recording it did. */
export interface RecordedMailReport {
  readonly report: ParsedReport;
  readonly recorded: RecordedReport;
}

/**
 * Records the reports read from one mail; the alerts they raised and each report's outcome.
 * @example const { events } = await recordMailReports(read.reports.map((r) => r.report), { source: key, receivedAt }, deps);
 */
export async function recordMailReports(
  reports: readonly ParsedReport[],
  message: { readonly source: string; readonly receivedAt: string },
  deps: ReportMailDeps,
): Promise<{ readonly events: AlertEvent[]; readonly recorded: RecordedMailReport[] }> {
  const ips = reports.flatMap((r) => (r.kind === 'dmarc' ? r.rows.map((x) => x.sourceIp) : []));
  const names =
    deps.lookup && ips.length > 0 ? await reverseNames(ips, { lookup: deps.lookup }, deps.maxPtrLookups !== undefined ? { max: deps.maxPtrLookups } : {}) : new Map<string, string | null>();
  const targetOf = (domain: string) => targetOfDomain(deps.targets, domain);
  const events: AlertEvent[] = [];
  const recorded: RecordedMailReport[] = [];
  for (const report of reports) {
    const r = await recordReport(report, { store: deps.store, reports: deps.reports, clock: deps.clock, random: deps.random, ptrOf: (ip) => names.get(ip) ?? null, targetOf, source: message.source, receivedAt: message.receivedAt });
    events.push(...r.events);
    recorded.push({ report, recorded: r });
  }
  return { events, recorded };
}
