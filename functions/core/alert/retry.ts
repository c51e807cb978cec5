/**
 * How long an alert that could not be delivered waits before the next try, in AWS: the alert
 * queue's message is hidden for this long (its visibility timeout) and then delivered again.
 * The wait doubles from a minute up to an hour, so a short blip costs a minute and an outage
 * is retried hourly; a channel's own Retry-After is honoured when longer. The stack sizes the
 * queue's `maxReceiveCount` from this schedule so the tries span at least RETRY_SPAN_SECONDS
 * before an alert goes to the dead-letter queue. Pure.
 */

/** The wait after the first failed delivery. */
export const FIRST_RETRY_SECONDS = 60;
/** The longest wait between two tries (an outage is retried this often). */
export const MAX_RETRY_SECONDS = 3600;
/** SQS hides a message for 12 hours at most. */
const SQS_MAX_VISIBILITY_SECONDS = 43_200;
/** How long delivery keeps trying before an alert is dead-lettered. */
export const RETRY_SPAN_SECONDS = 24 * 3600;

/**
 * The wait before the next try of a message received `receiveCount` times (1: the first try
 * failed), or the channel's Retry-After when that is longer.
 * @example retryDelaySeconds(1) // 60
 */
export function retryDelaySeconds(receiveCount: number, retryAfterMs: number | null = null): number {
  const backoff = Math.min(FIRST_RETRY_SECONDS * 2 ** Math.max(0, receiveCount - 1), MAX_RETRY_SECONDS);
  const asked = retryAfterMs !== null && retryAfterMs > 0 ? Math.ceil(retryAfterMs / 1000) : 0;
  return Math.min(Math.max(backoff, asked), SQS_MAX_VISIBILITY_SECONDS);
}

/**
 * The receives (tries) a message needs so that the waits between them add up to at least
 * `spanSeconds`: the queue's `maxReceiveCount`.
 * @example receivesSpanning(24 * 3600) // 30
 */
export function receivesSpanning(spanSeconds: number = RETRY_SPAN_SECONDS): number {
  let waited = 0;
  let receives = 1;
  while (waited < spanSeconds) waited += retryDelaySeconds(receives++);
  return receives;
}
