/**
 * Logs Insights queries of the dashboard that tests also run against the handlers' own log lines
 * (test/helpers/logs-insights.ts), kept free of CDK imports so those tests load quickly.
 */

/** The bounce Lambda's log line with SES's verdicts on a delivered canary (functions/lambda/intake.ts). */
export const AUTHENTICATION_LOG_MESSAGE = 'canary authentication';

/**
 * The delivered-canary table: the latest canaries SES received and its SPF, DKIM and DMARC
 * verdicts. `dkim` is a list in the log line (one result per signature; SES gives one verdict),
 * which Logs Insights flattens to dkim.0, dkim.1, …; no signature leaves it empty, shown as none.
 */
export const DELIVERED_CANARIES_QUERY: readonly string[] = [
  `filter message = '${AUTHENTICATION_LOG_MESSAGE}'`,
  "fields @timestamp, target, spf, coalesce(dkim.0, 'none') as dkim, dmarc, canaryId",
  'sort @timestamp desc',
  'limit 20',
];
