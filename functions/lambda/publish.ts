/**
 * Publishing a handler's alerts to the alert topic. Every event is tried even when one fails;
 * the failures are logged and then thrown together, so the function's errors alarm sees them.
 * (The alerts are already claimed, so a retried invocation would not raise them again: the
 * error and its log line are where a lost alert shows.)
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AlertPublisher } from '#adapters/sns-alert-topic.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { DeliveryError } from '#core/errors.ts';

/** Publishes every event; rejects with a DeliveryError naming the alerts that could not be published. */
export async function publishAll(topic: AlertPublisher, events: readonly AlertEvent[], logger: Logger): Promise<void> {
  const results = await Promise.allSettled(events.map((e) => topic.publish(e)));
  const failed: string[] = [];
  results.forEach((r, i) => {
    const event = events[i]!;
    if (r.status === 'fulfilled') {
      logger.info('alert published', { key: event.key, kind: event.kind, snsMessageId: r.value });
      return;
    }
    failed.push(event.key);
    logger.error('alert not published', { key: event.key, kind: event.kind, target: event.target, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
  });
  if (failed.length > 0) throw new DeliveryError(`${failed.length} of ${events.length} alerts could not be published to the alert topic: ${failed.join(', ')}`);
}
