/**
 * The alert Lambda, fed by the alert queue (SNS → SQS): each message is an alert event a
 * Lambda published, or a CloudWatch alarm notification. Each alert goes to the destinations of
 * its route, in the route's language (functions/lambda/delivery.ts: delivery state per
 * destination, each channel at its pace); the health alerts of one batch that go to one
 * destination share a post. A message some destination still lacks is reported
 * as a batch item failure and hidden for its retry wait (functions/core/alert/retry.ts), so it
 * comes back later; after the stack's maxReceiveCount tries (24 hours and more) it goes to the
 * dead-letter queue. An alarm on one target's canary results is dropped: the health state
 * machine speaks for it (functions/core/alert/voice.ts).
 */
import { createSqsRetryQueue } from '#adapters/sqs-queue.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';
import { retryDelaySeconds } from '#core/alert/retry.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { routeOf, type AlertRoute } from '#core/alert/routes.ts';
import { decodeAlertMessage } from '#core/alert/sns.ts';
import { spokenForByHealth } from '#core/alert/voice.ts';
import { deliverAlerts, type DestinationOutcome } from '../lambda/delivery.ts';
import { optionalEnv, readDeployedConfig, requiredEnv } from '../lambda/env.ts';
import { parseEvent, sqsEventSchema, type SqsBatchResponse, type SqsEvent } from '../lambda/events.ts';
import { destinationNotifiers } from '../lambda/notifiers.ts';
import { logger, useContext, type LambdaContext } from '../lambda/powertools.ts';
import { secretReader } from '../lambda/secrets.ts';
import { tableStore } from '../lambda/store.ts';

const config = readDeployedConfig();
const store = tableStore(requiredEnv('TABLE_NAME'), config.retention);
const queue = createSqsRetryQueue({ queueUrl: requiredEnv('ALERT_QUEUE_URL') });
// The stack sets SLACK_SECRET_ID whenever alerts.slack is configured; without it the deployment is broken.
const notifierOf = destinationNotifiers({ slackSecretId: config.alerts.slack ? requiredEnv('SLACK_SECRET_ID') : optionalEnv('SLACK_SECRET_ID'), secrets: secretReader });
const emailPaceMs = Math.ceil(1000 / (config.alerts.email?.maxPerSecond ?? 1));
const clock = systemClock;

/** A message of the batch that holds an alert to deliver. */
interface PendingAlert {
  readonly record: SqsEvent['Records'][number];
  readonly receives: number;
  readonly alert: AlertEvent;
  readonly route: AlertRoute;
  readonly fields: Record<string, unknown>;
}

/** Reads one message: the alert to deliver, or null when there is nothing to deliver (logged). */
function readMessage(record: SqsEvent['Records'][number]): PendingAlert | null {
  const receives = Number(record.attributes.ApproximateReceiveCount);
  const alert = decodeAlertMessage(record.body, { now: clock(), random: systemRandom });
  if (!alert) {
    logger.warn('not an alert or alarm message; dropped', { sqsMessageId: record.messageId });
    return null;
  }
  const fields = { key: alert.key, kind: alert.kind, target: alert.target, status: alert.status, sqsMessageId: record.messageId, receives };
  if (spokenForByHealth(alert)) {
    logger.info('alarm on a target\'s canary results not delivered: the health state machine and the dead-man speak for it', fields);
    return null;
  }
  const route = routeOf(alert, config);
  if (route.destinations.length === 0) {
    logger.warn('no alert channel configured for this alert (alerts.slack, alerts.email, its route); alert logged only', { ...fields, route: route.name });
    return null;
  }
  return { record, receives, alert, route, fields };
}

/** Logs what each destination did with a message's alert; the wait before its next try, or null when it is done. */
function waitOf({ route, fields, receives }: PendingAlert, outcomes: readonly DestinationOutcome[]): number | null {
  let retryAfterMs = 0;
  for (const o of outcomes) {
    const at = { ...fields, route: route.name, destination: o.id, channel: o.channel };
    if (o.state === 'sent') logger.info('alert delivered', at);
    else if (o.state === 'already') logger.info('alert already delivered to this destination; not sent again', at);
    else if (o.state === 'failed' || o.state === 'busy') {
      logger.error('alert not delivered; tried again later', { ...at, state: o.state, error: o.error });
      retryAfterMs = Math.max(retryAfterMs, o.retryAfterMs ?? 0);
    }
  }
  if (outcomes.length === route.destinations.length && outcomes.every((o) => o.state === 'sent' || o.state === 'already')) return null;
  return retryDelaySeconds(receives, retryAfterMs || null);
}

/** Entry point: an SQS event of the alert queue; answers with the messages to try again. */
export async function handler(event: unknown, context?: LambdaContext): Promise<SqsBatchResponse> {
  useContext(context);
  const { Records } = parseEvent(sqsEventSchema, event, 'SQS event');
  const pending = Records.map(readMessage).filter((p): p is PendingAlert => p !== null);
  // The batch's alerts together: health alerts for one destination share a post.
  let outcomes: Map<string, DestinationOutcome[]> | null = null;
  try {
    outcomes = await deliverAlerts(
      pending.map((p) => p.alert),
      (alert) => routeOf(alert, config),
      { store: store(), clock, notifierOf, emailPaceMs },
    );
  } catch (err) {
    // The table or a secret failed: every message of the batch is tried again on its schedule.
    logger.error('alert delivery failed; tried again later', { messages: pending.length, error: err instanceof Error ? err.message : String(err) });
  }
  const failures: { readonly itemIdentifier: string }[] = [];
  for (const p of pending) {
    const wait = outcomes ? waitOf(p, outcomes.get(p.alert.key) ?? []) : retryDelaySeconds(p.receives);
    if (wait === null) continue;
    failures.push({ itemIdentifier: p.record.messageId });
    // Without the wait the message comes back after the queue's visibility timeout: later, never lost.
    await queue.retryIn(p.record.receiptHandle, wait).catch((err: unknown) => logger.warn('retry wait not set; the queue\'s visibility timeout applies', { sqsMessageId: p.record.messageId, error: err instanceof Error ? err.message : String(err) }));
  }
  return { batchItemFailures: failures };
}
