/**
 * DMARC aggregate and TLS reports in the bounce Lambda: the same SES inbound path as bounces
 * (receivers mail `dmarc@`/`tlsrpt@` the bounce domain). Called for each received message
 * before the bounce classifier: a report mail is read here (functions/adapters/report-reader.ts),
 * each report recorded (core/dmarc/record.ts: the table, one alert per change) and logged for
 * the dashboard's report-findings table; anything else returns null and is classified as a
 * bounce. A report mail that gives no report is logged with each refusal named (its raw message
 * stays in S3 like every message), never retried in a loop: it will not read better next time.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDmarcDynamoDbStore } from '#adapters/dmarc-dynamodb-store.ts';
import { readReportMail } from '#adapters/report-reader.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { reportDay, reportDomains } from '#core/dmarc/model.ts';
import { reverseNames } from '#core/dmarc/ptr.ts';
import { recordReport } from '#core/dmarc/record.ts';
import { targetOfDomain } from '#core/dmarc/targets.ts';
import type { Clock, DmarcStore, DnsLookup, RandomSource, Store } from '#core/ports.ts';
import { once } from './lazy.ts';
import { REPORT_LOG_MESSAGE } from './report-log.ts';

// Reverse names asked per message at most: the function's minute is shared with the rest of the work.
const PTR_LOOKUPS_PER_MESSAGE = 300;


/** What reading a report mail needs. */
export interface ReportMailDeps {
  readonly bounceDomain: string;
  readonly targets: readonly { readonly name: string; readonly from: string }[];
  readonly store: Store;
  readonly reports: DmarcStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** DNS for the sources' reverse names; null: not looked up. */
  readonly lookup: DnsLookup | null;
  readonly logger: Logger;
}

/**
 * Reads and records a received message when it is a report mail; the alerts it raised (to
 * publish), or null when it is not a report mail.
 * @example
 * const events = await recordReportMail(raw, { source: key, receivedAt: mail.timestamp }, deps);
 * if (events) return publishAll(topic, events, logger, outbox());
 */
export async function recordReportMail(raw: Uint8Array, message: { readonly source: string; readonly receivedAt: string }, deps: ReportMailDeps): Promise<AlertEvent[] | null> {
  const read = await readReportMail(raw, { now: deps.clock(), bounceDomain: deps.bounceDomain, name: message.source });
  if (read === null) return null;
  for (const p of read.problems) deps.logger.warn('report not readable', { source: message.source, file: p.name, code: p.problem.code, problem: p.problem.message });
  const ips = read.reports.flatMap((r) => (r.report.kind === 'dmarc' ? r.report.rows.map((x) => x.sourceIp) : []));
  const names = deps.lookup && ips.length > 0 ? await reverseNames(ips, { lookup: deps.lookup }, { max: PTR_LOOKUPS_PER_MESSAGE }) : new Map<string, string | null>();
  const targetOf = (domain: string) => targetOfDomain(deps.targets, domain);
  const events: AlertEvent[] = [];
  for (const { report } of read.reports) {
    const recorded = await recordReport(report, { store: deps.store, reports: deps.reports, clock: deps.clock, random: deps.random, ptrOf: (ip) => names.get(ip) ?? null, targetOf, source: message.source, receivedAt: message.receivedAt });
    events.push(...recorded.events);
    if (!recorded.first) {
      deps.logger.info('report read before', { source: message.source, kind: report.kind, org: report.org, reportId: report.reportId, domains: reportDomains(report) });
      continue;
    }
    for (const s of recorded.summaries) {
      const worst = s.findings[0];
      deps.logger.info(REPORT_LOG_MESSAGE, {
        source: message.source,
        kind: report.kind,
        org: report.org,
        reportId: report.reportId,
        domain: s.domain,
        target: s.target,
        day: reportDay(report),
        status: s.status,
        messages: s.messages,
        passed: s.passed,
        tlsFailed: s.tls?.failed ?? 0,
        findings: s.findings.map((f) => f.code),
        ...(worst ? { finding: { code: worst.code, severity: worst.severity, message: worst.message.en } } : {}),
      });
    }
  }
  return events;
}

/**
 * The DmarcStore over the stack's table, created on first use.
 * @example const reports = tableDmarcStore(requiredEnv('TABLE_NAME')); await reports().listDomains();
 */
export function tableDmarcStore(tableName: string, historyDays?: number): () => DmarcStore {
  return once(() => createDmarcDynamoDbStore({ client: new DynamoDBClient({}), tableName, ...(historyDays !== undefined ? { historyDays } : {}) }));
}
