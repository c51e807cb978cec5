/**
 * The dashboard's view of DMARC aggregate and TLS reports: a Logs Insights table of the
 * reports the bounce Lambda read (one `dmarc report` log line per report and domain), worst
 * first, and a daily pass rate per domain. Log lines, not metrics: a metric per domain would be
 * billed every month, and the widgets stay the same for any number of domains.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { REPORT_LOG_MESSAGE } from '../functions/lambda/report-log.ts';

/**
 * The report widgets over the bounce Lambda's log group.
 * @example dashboard.addWidgets(...dmarcReportWidgets(bounceLogGroup));
 */
export function dmarcReportWidgets(bounceLogGroup: logs.ILogGroup): cloudwatch.IWidget[] {
  const table = (title: string, queryLines: string[], width: number) =>
    new cloudwatch.LogQueryWidget({ title, logGroupNames: [bounceLogGroup.logGroupName], view: cloudwatch.LogQueryVisualizationType.TABLE, queryLines, width, height: 6 });
  return [
    table('DMARC and TLS report findings (DMARC_REPORT_FAIL, DMARC_REPORT_UNKNOWN_SOURCE, TLSRPT_FAILURE)', [
      `filter message = '${REPORT_LOG_MESSAGE}' and status != 'ok'`,
      'fields @timestamp, domain, target, day, org, finding.code, finding.severity, messages, passed, tlsFailed',
      'sort @timestamp desc',
      'limit 50',
    ], 16),
    table('DMARC pass rate per domain and day', [
      `filter message = '${REPORT_LOG_MESSAGE}' and kind = 'dmarc'`,
      'stats sum(messages) as messages, sum(passed) as passed, count(*) as reports by domain, day',
      'sort day desc, domain',
      'limit 100',
    ], 8),
  ];
}
