/**
 * Publishing raised alerts to the alert topic. An alert is raised into the table's outbox with
 * the decision that raised it (functions/core/health/raise.ts); here it is published and then
 * marked sent. One that SNS did not take stays in the outbox and the sweeper publishes it again
 * (`republishUnsent`), so an SNS outage or a Lambda stopped between the decision and the
 * publish delays an alert and never loses it. Publishing twice is harmless: the alert Lambda
 * delivers each alert once per destination.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AlertPublisher } from '#adapters/sns-alert-topic.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { DeliveryError } from '#core/errors.ts';
import type { AlertOutbox } from '#core/ports.ts';

/** How long an unsent alert is left to the Lambda that raised it before the sweeper publishes it. */
export const OUTBOX_GRACE_SECONDS = 120;
/** The most alerts one sweep publishes again (the next sweep takes the rest). */
export const REPUBLISH_LIMIT = 200;

/**
 * Publishes every event and marks each one SNS took as sent; rejects with a DeliveryError
 * naming the alerts left in the outbox (the function's errors alarm then shows the trouble).
 */
export async function publishAll(topic: AlertPublisher, events: readonly AlertEvent[], logger: Logger, outbox?: AlertOutbox): Promise<void> {
  const results = await Promise.allSettled(
    events.map(async (e) => {
      const id = await topic.publish(e);
      // A mark that fails leaves the alert to be published once more: a duplicate, never a loss.
      await outbox?.markSent(e).catch((err: unknown) => logger.warn('alert published, not marked sent; the sweeper publishes it again', { key: e.key, error: err instanceof Error ? err.message : String(err) }));
      return id;
    }),
  );
  const failed: string[] = [];
  results.forEach((r, i) => {
    const event = events[i]!;
    if (r.status === 'fulfilled') {
      logger.info('alert published', { key: event.key, kind: event.kind, snsMessageId: r.value });
      return;
    }
    failed.push(event.key);
    logger.error('alert not published', { outbox: 'kept for the sweeper', key: event.key, kind: event.kind, target: event.target, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
  });
  if (failed.length > 0) throw new DeliveryError(`${failed.length} of ${events.length} alerts could not be published to the alert topic (kept in the outbox): ${failed.join(', ')}`);
}

/**
 * Publishes again the alerts raised before `raisedBefore` (ISO) and still unsent. Resolves
 * with how many were published and how many are left; never rejects for a failed publish
 * (the next sweep tries again).
 */
export async function republishUnsent(
  topic: AlertPublisher,
  outbox: AlertOutbox,
  raisedBefore: string,
  logger: Logger,
): Promise<{ readonly published: number; readonly left: number }> {
  const unsent = await outbox.unsent(raisedBefore, REPUBLISH_LIMIT);
  if (unsent.length === 0) return { published: 0, left: 0 };
  try {
    await publishAll(topic, unsent, logger, outbox);
    return { published: unsent.length, left: 0 };
  } catch {
    const left = (await outbox.unsent(raisedBefore, REPUBLISH_LIMIT)).length;
    return { published: unsent.length - left, left };
  }
}
