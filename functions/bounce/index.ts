/**
 * The bounce Lambda: for each message SES received for the bounce domain, reads the raw message
 * from S3, classifies it, records a delivered canary (the round trip) or the bounced recipients,
 * and publishes the bounce alerts to the alert topic. Processing a message twice (a retry, a
 * duplicate event) raises nothing new (functions/lambda/intake.ts). SES's verdicts are read from
 * the receipt event: a message SES flagged as a virus is never read from S3 nor parsed; the spam
 * verdict is logged with every message (DSNs are often scored as spam, so it decides nothing).
 */
import { createMailParser } from '#adapters/mail-parser.ts';
import { createS3RawMailSource } from '#adapters/s3-raw-mail.ts';
import { createSnsAlertTopic } from '#adapters/sns-alert-topic.ts';
import { canaryVerdicts } from '#core/auth/canary.ts';
import { headerBlockOf } from '#core/auth/received.ts';
import { analyzeBounce } from '#core/bounce/analyze.ts';
import { canaryRecipientsFromStore } from '#core/bounce/canary.ts';
import { readDeployedConfig, requiredEnv } from '../lambda/env.ts';
import { digestFlushEventSchema, parseEvent, sesReceiptEventSchema, type SesReceiptEvent } from '../lambda/events.ts';
import { publishableDigests, recordMessage } from '../lambda/intake.ts';
import { metricsSink } from '../lambda/metrics.ts';
import { logger, useContext, type LambdaContext } from '../lambda/powertools.ts';
import { publishAll } from '../lambda/publish.ts';
import { recordReportMail, tableDmarcStore } from '../lambda/reports.ts';
import { tableOutbox, tableStore } from '../lambda/store.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';
import { createDnsLookup } from '#adapters/dns-client.ts';

const config = readDeployedConfig();
const tableName = requiredEnv('TABLE_NAME');
const store = tableStore(tableName, config.retention);
const outbox = tableOutbox(tableName);
const rawMail = createS3RawMailSource({ bucket: requiredEnv('RAW_MAIL_BUCKET') });
const prefix = requiredEnv('RAW_MAIL_PREFIX');
const topic = createSnsAlertTopic({ topicArn: requiredEnv('ALERT_TOPIC_ARN') });
const parse = createMailParser();
const clock = systemClock;
const random = systemRandom;
// A storm gives one digest per target and window; the digest points at the list in the table.
// DMARC and TLS report mails to the bounce domain (functions/lambda/reports.ts).
const reports = tableDmarcStore(tableName, config.retention.historyDays);
const lookup = createDnsLookup(config.dnsServers ? { servers: config.dnsServers } : {});
const reportDeps = () => ({ bounceDomain: config.bounceDomain, targets: config.targets, store: store(), reports: reports(), clock, random, lookup, logger });
const digests = { digestMinutes: config.alerts.bounceDigestMinutes, seeAlso: { command: `mailhealth suppressions --table ${tableName}` } };

/**
 * Entry point: the SES receipt event (headers only; the message is in S3 at prefix + messageId),
 * or the digest schedule's `{"flushDigests": true}`.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<void> {
  useContext(context);
  if (digestFlushEventSchema.safeParse(event).success) {
    await publishAll(topic, await publishableDigests({ store: store(), clock, random, logger, language: config.language, ...digests }), logger, outbox());
    return;
  }
  const { Records } = parseEvent(sesReceiptEventSchema, event, 'SES receipt event');
  try {
    for (const { ses } of Records) await processMessage(ses);
  } finally {
    metricsSink.flush();
  }
}

async function processMessage({ mail, receipt }: SesReceiptEvent['Records'][number]['ses']): Promise<void> {
  const key = `${prefix}${mail.messageId}`;
  // SES found a virus: the message is never read, let alone parsed (it expires with the bucket's raw mail).
  if (receipt.virusVerdict?.status === 'FAIL') {
    logger.warn('message flagged as a virus by SES; not read', { messageId: mail.messageId, key, spam: receipt.spamVerdict?.status, virus: 'FAIL' });
    return;
  }
  const raw = await rawMail(key);
  const reportEvents = await recordReportMail(raw, { source: key, receivedAt: mail.timestamp ?? clock().toISOString() }, reportDeps());
  if (reportEvents) return publishAll(topic, reportEvents, logger, outbox());
  const analysis = await analyzeBounce(raw, { parse, canaryRecipients: canaryRecipientsFromStore(store()) });
  logger.info('message read', {
    messageId: mail.messageId,
    spam: receipt.spamVerdict?.status,
    virus: receipt.virusVerdict?.status,
    kind: analysis.kind,
    recipients: analysis.recipients.length,
    canaryId: analysis.canaryId,
    deliveredCanaryId: analysis.deliveredCanaryId,
    truncated: analysis.truncated,
    notes: analysis.notes,
  });
  const verdictsFor = (target: string) => canaryVerdicts(config, target, { receipt, envelopeSender: mail.source ?? null, headers: headerBlockOf(raw) });
  const events = await recordMessage(analysis, { store: store(), clock, random, source: key, logger, sink: metricsSink, language: config.language, repeatAfterMinutes: config.alerts.reminderMinutes, verdictsFor, receivedAt: mail.timestamp, ...digests });
  await publishAll(topic, events, logger, outbox());
}
