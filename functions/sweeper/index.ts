/**
 * The sweeper Lambda: the dead-man of the deployment. On its own schedule, apart from the
 * canary's, it reads every target's latest round from the table and raises one incident when
 * targets stop reporting (functions/core/health/silence.ts): it fires when the canary Lambda,
 * its schedules or its permissions are broken, which no round can report. Its one log line per
 * sweep counts the targets by state (the dashboard's fleet view). It also publishes again the
 * alerts any Lambda raised and did not get onto the alert topic (an SNS outage, a Lambda
 * stopped between deciding and publishing): each sweep takes those older than the grace time.
 * Its own silence is watched by the stack's sweeper-not-running alarm.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbSilenceStore } from '#adapters/dynamodb-store.ts';
import { createSnsAlertTopic } from '#adapters/sns-alert-topic.ts';
import { recordSweep } from '#core/health/sweep.ts';
import { readDeployedConfig, requiredEnv } from '../lambda/env.ts';
import { parseEvent, sweeperInputSchema } from '../lambda/events.ts';
import { once } from '../lambda/lazy.ts';
import { observeAlerts } from '../lambda/observe.ts';
import { logger, useContext, type LambdaContext } from '../lambda/powertools.ts';
import { OUTBOX_GRACE_SECONDS, publishAll, republishUnsent } from '../lambda/publish.ts';
import { tableOutbox, tableStore } from '../lambda/store.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';

/** The log message of the sweeper's one line per sweep (the fleet view reads it). */
export const SWEEP_LOG_MESSAGE = 'sweep';

const config = readDeployedConfig();
const tableName = requiredEnv('TABLE_NAME');
const store = tableStore(tableName, config.retention);
const outbox = tableOutbox(tableName);
const silence = once(() => createDynamoDbSilenceStore({ client: new DynamoDBClient({}), tableName }));
const topic = createSnsAlertTopic({ topicArn: requiredEnv('ALERT_TOPIC_ARN') });
const silentAfterSeconds = Number(requiredEnv('SILENT_AFTER_SECONDS'));
const targets = config.targets.map((t) => t.name);

/** What one sweep found (async invocations drop it; handy in a console test run). */
export interface SweepSummary {
  readonly targets: number;
  readonly silent: readonly string[];
  readonly alerts: number;
  /** Alerts of earlier runs (any Lambda's) published again from the outbox. */
  readonly republished: number;
}

/**
 * Entry point: the scheduler's input `{"scheduledTime":"…"}`. The outbox is emptied of what was
 * raised before the scheduled time less the grace time (a late invocation takes no younger alert).
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<SweepSummary> {
  useContext(context);
  const input = parseEvent(sweeperInputSchema, event ?? {}, 'sweeper schedule input');
  const scheduled = input.scheduledTime !== undefined ? Date.parse(input.scheduledTime) : Number.NaN;
  const sweptAt = Number.isNaN(scheduled) ? systemClock().getTime() : scheduled;
  const again = await republishUnsent(topic, outbox(), new Date(sweptAt - OUTBOX_GRACE_SECONDS * 1000).toISOString(), logger);
  if (again.published > 0 || again.left > 0) logger.warn('alerts published again from the outbox', { ...again });
  const outcome = await recordSweep(targets, {
    store: store(),
    silence: silence(),
    clock: systemClock,
    random: systemRandom,
    silentAfterMs: silentAfterSeconds * 1000,
    reminderMinutes: config.alerts.reminderMinutes,
  });
  logger.info(SWEEP_LOG_MESSAGE, {
    targets: targets.length,
    ...outcome.counts,
    silentCount: outcome.silent.length,
    silent: outcome.silent.slice(0, 20).map((s) => s.target),
  });
  observeAlerts(outcome.events, { logger, language: config.language });
  await publishAll(topic, outcome.events, logger, outbox());
  return { targets: targets.length, silent: outcome.silent.map((s) => s.target), alerts: outcome.events.length, republished: again.published };
}
