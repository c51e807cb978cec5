/**
 * One voice per incident. The health state machine says when a target starts failing and when
 * it recovers; the dead-man sweeper says when targets stop reporting rounds. A CloudWatch alarm
 * on one target's canary results says the same things a second time, late and in other words,
 * so it is not delivered. Alarms keep the voice for what neither can see: a Lambda failing, the
 * sweeper itself not running, a spike of bounces.
 */
import type { AlertEvent } from './event.ts';

/** The canary's per-target metric, as an alarm notification names it (`Namespace/MetricName`). */
export const CANARY_SUCCESS_METRIC = 'MailHealth/CanarySuccess';

/**
 * Whether an alert repeats what the health state machine or the dead-man already say: a
 * CloudWatch alarm on one target's `CanarySuccess` (its failures or its silence), such as the
 * per-target alarms of earlier versions of the stack or one a user added.
 * @example if (spokenForByHealth(alert)) logger.info('alarm not delivered: the health state machine speaks for it');
 */
export function spokenForByHealth(event: AlertEvent): boolean {
  return event.kind === 'alarm' && event.target !== null && event.alarm.metric === CANARY_SUCCESS_METRIC;
}
