/**
 * The alert Lambda: every message of the alert topic (an alert event the canary, bounce or
 * sweeper Lambda published, or a CloudWatch alarm notification) is formatted and sent to Slack
 * and email, once: an SNS redelivery finds the delivery already claimed. An alarm on one
 * target's canary results is dropped: the health state machine speaks for it (one voice per
 * incident, functions/core/alert/voice.ts).
 */
import { decodeAlertMessage } from '#core/alert/sns.ts';
import { spokenForByHealth } from '#core/alert/voice.ts';
import { DeliveryError } from '#core/errors.ts';
import { deliverAlert } from '#core/health/deliver.ts';
import { claimDelivery, releaseDelivery } from '#core/health/record.ts';
import { readDeployedConfig, requiredEnv } from '../lambda/env.ts';
import { parseEvent, snsEventSchema } from '../lambda/events.ts';
import { alertNotifiers } from '../lambda/notifiers.ts';
import { logger, useContext, type LambdaContext } from '../lambda/powertools.ts';
import { secretReader } from '../lambda/secrets.ts';
import { tableStore } from '../lambda/store.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';

const config = readDeployedConfig();
const store = tableStore(requiredEnv('TABLE_NAME'), config.retention);
// The stack sets SLACK_SECRET_ID whenever alerts.slack is configured; without it the deployment is broken.
const notifiers = alertNotifiers(config, { slackSecretId: config.alerts.slack ? requiredEnv('SLACK_SECRET_ID') : undefined, secrets: secretReader });
const clock = systemClock;
const random = systemRandom;

/** Entry point: an SNS event of the alert topic. */
export async function handler(event: unknown, context?: LambdaContext): Promise<void> {
  useContext(context);
  const { Records } = parseEvent(snsEventSchema, event, 'SNS event');
  const undelivered: string[] = [];
  for (const { Sns } of Records) {
    const alert = decodeAlertMessage(Sns.Message, { now: clock(), random });
    if (!alert) {
      logger.warn('not an alert or alarm message; dropped', { snsMessageId: Sns.MessageId, topicArn: Sns.TopicArn });
      continue;
    }
    const fields = { key: alert.key, kind: alert.kind, target: alert.target, status: alert.status, snsMessageId: Sns.MessageId };
    if (spokenForByHealth(alert)) {
      logger.info('alarm on a target\'s canary results not delivered: the health state machine and the dead-man speak for it', fields);
      continue;
    }
    if (!(await claimDelivery(alert, store()))) {
      logger.info('alert already delivered; duplicate dropped', fields);
      continue;
    }
    const outcomes = await deliverAlert(alert, notifiers, config.language, { store: store(), clock });
    for (const o of outcomes) {
      if (o.ok) logger.info('alert delivered', { ...fields, channel: o.channel });
      else logger.error('alert not delivered', { ...fields, channel: o.channel, error: o.error });
    }
    if (notifiers.length === 0) logger.warn('no alert channel configured (alerts.slack, alerts.email); alert logged only', fields);
    else if (outcomes.every((o) => !o.ok)) {
      // Give the claim back: the topic retries the message, and the retry must deliver it.
      await releaseDelivery(alert, store());
      undelivered.push(alert.key);
    }
  }
  // Every channel failed: fail the invocation so the errors alarm (and its dashboard) shows it.
  if (undelivered.length > 0) throw new DeliveryError(`no channel delivered the alerts ${undelivered.join(', ')}`);
}
