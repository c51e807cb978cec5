/**
 * The bounce Lambda: for each message SES received for the bounce domain, reads the raw message
 * from S3, classifies it, records a delivered canary (the round trip) or the bounced recipients,
 * and publishes the bounce alerts to the alert topic. Processing a message twice (a retry, a
 * duplicate event) raises nothing new (functions/lambda/intake.ts).
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
import { tableStore } from '../lambda/store.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';

const config = readDeployedConfig();
const tableName = requiredEnv('TABLE_NAME');
const store = tableStore(tableName, config.retention);
const rawMail = createS3RawMailSource({ bucket: requiredEnv('RAW_MAIL_BUCKET') });
const prefix = requiredEnv('RAW_MAIL_PREFIX');
const topic = createSnsAlertTopic({ topicArn: requiredEnv('ALERT_TOPIC_ARN') });
const parse = createMailParser();
const clock = systemClock;
const random = systemRandom;
// A storm gives one digest per target and window; the digest points at the list in the table.
const digests = { digestMinutes: config.alerts.bounceDigestMinutes, seeAlso: { command: `mailhealth suppressions --table ${tableName}` } };

/**
 * Entry point: the SES receipt event (headers only; the message is in S3 at prefix + messageId),
 * or the digest schedule's `{"flushDigests": true}`.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<void> {
  useContext(context);
  if (digestFlushEventSchema.safeParse(event).success) {
    await publishAll(topic, await publishableDigests({ store: store(), clock, random, logger, language: config.language, ...digests }), logger);
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
  const raw = await rawMail(key);
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
  await publishAll(topic, events, logger);
}
