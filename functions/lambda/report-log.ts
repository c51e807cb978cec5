/**
 * The log line the bounce Lambda writes per DMARC or TLS report and domain (functions/lambda/reports.ts),
 * which the dashboard's report table reads (lib/dmarc-widgets.ts). Its own module so the CDK app
 * imports the name without the handler's clients.
 */
export const REPORT_LOG_MESSAGE = 'dmarc report';
