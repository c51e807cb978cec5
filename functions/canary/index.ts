/**
 * The canary Lambda: the rounds of the targets a schedule names, side by side (each wired in
 * functions/lambda/canary-round.ts: the round, its health state, the round-trip check and the
 * alerts). A round sends the canary message only when its scheduled time is the target's
 * round trip (config `roundTripSchedule`); the others check the login and send nothing.
 */
import { createSnsAlertTopic } from '#adapters/sns-alert-topic.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';
import { canaryRounds, type CanaryOutcome } from '../lambda/canary-round.ts';
import { optionalEnv, readDeployedConfig, requiredEnv } from '../lambda/env.ts';
import { parseEvent, schedulerInputSchema } from '../lambda/events.ts';
import { metricsSink } from '../lambda/metrics.ts';
import { logger, useContext, type LambdaContext } from '../lambda/powertools.ts';
import { secretReader } from '../lambda/secrets.ts';
import { tableOutbox, tableStore } from '../lambda/store.ts';

export type { CanaryOutcome } from '../lambda/canary-round.ts';

const config = readDeployedConfig();
const checkTarget = canaryRounds(config, {
  store: tableStore(requiredEnv('TABLE_NAME'), config.retention),
  outbox: tableOutbox(requiredEnv('TABLE_NAME')),
  topic: createSnsAlertTopic({ topicArn: requiredEnv('ALERT_TOPIC_ARN') }),
  secrets: secretReader,
  logger,
  sink: metricsSink,
  clock: systemClock,
  random: systemRandom,
  intervalSeconds: optionalEnv('ROUND_INTERVAL_SECONDS'),
});

/** What one invocation did (async invocations drop it; handy in a console test run). */
export interface CanaryInvocation {
  readonly rounds: readonly CanaryOutcome[];
}

/**
 * Entry point: the scheduler's input `{"targets":[…],"scheduledTime":"…"}`, or `{"target":"<name>"}`
 * for a round started by hand. One target failing (a missing secret) does not stop the others;
 * the invocation then fails with its error, so the errors alarm sees it.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<CanaryInvocation> {
  useContext(context);
  const input = parseEvent(schedulerInputSchema, event, 'canary schedule input');
  const names = input.targets ?? [input.target!];
  const scheduledAt = input.scheduledTime !== undefined ? new Date(input.scheduledTime) : undefined;
  try {
    const settled = await Promise.allSettled(names.map((name) => checkTarget(name, scheduledAt)));
    const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ target: names[i]!, error: s.reason as unknown }] : []));
    for (const f of failures) logger.error('round failed', { target: f.target, error: f.error instanceof Error ? f.error.message : String(f.error) });
    if (failures.length > 0) throw failures[0]!.error;
    return { rounds: settled.map((s) => (s as PromiseFulfilledResult<CanaryOutcome>).value) };
  } finally {
    metricsSink.flush();
  }
}
