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
import { recordMailReports, type ReportMailDeps } from '#core/dmarc/record-mail.ts';
import type { DmarcStore } from '#core/ports.ts';
import { once } from './lazy.ts';
import { REPORT_LOG_MESSAGE } from './report-log.ts';

// Reverse names asked per message at most: the function's minute is shared with the rest of the work.
const PTR_LOOKUPS_PER_MESSAGE = 300;

/** What reading a report mail needs: the bounce domain, what recording needs, the logger. */
export interface ReportMailLambdaDeps extends ReportMailDeps {
  readonly bounceDomain: string;
  readonly logger: Logger;
}

/**
 * Reads and records a received message when it is a report mail; the alerts it raised (to
 * publish), or null when it is not a report mail.
 * @example
 * const events = await recordReportMail(raw, { source: key, receivedAt: mail.timestamp }, deps);
 * if (events) return publishAll(topic, events, logger, outbox());
 */
export async function recordReportMail(raw: Uint8Array, message: { readonly source: string; readonly receivedAt: string }, deps: ReportMailLambdaDeps): Promise<AlertEvent[] | null> {
  const read = await readReportMail(raw, { now: deps.clock(), bounceDomain: deps.bounceDomain, name: message.source });
  if (read === null) return null;
  for (const p of read.problems) deps.logger.warn('report not readable', { source: message.source, file: p.name, code: p.problem.code, problem: p.problem.message });
  const { events, recorded } = await recordMailReports(
    read.reports.map((r) => r.report),
    message,
    { ...deps, maxPtrLookups: PTR_LOOKUPS_PER_MESSAGE },
  );
  for (const { report, recorded: r } of recorded) {
    if (!r.first) {
      deps.logger.info('report read before', { source: message.source, kind: report.kind, org: report.org, reportId: report.reportId, domains: reportDomains(report) });
      continue;
    }
    for (const s of r.summaries) {
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
