/**
 * Delivery of one alert to every configured channel. Channels run side by side and one failing
 * (after its own retries) never stops another; the failure comes back as a value.
 */
import type { AlertEvent, DeliveryOutcome } from '../alert/event.ts';
import { formatEmail } from '../alert/email.ts';
import { formatSlack } from '../alert/slack.ts';
import type { FormatOptions } from '../alert/view.ts';
import type { Language } from '../findings.ts';
import type { Clock, Notifier, Store } from '../ports.ts';

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Formats the alert for each channel and sends it. Resolves with one outcome per notifier, in
 * the notifiers' order; never rejects because a channel failed. With `store` (and `clock`),
 * the alert and its outcomes are kept in the history.
 * @example
 * const outcomes = await deliverAlert(event, [slack, email], 'ja', { store, clock });
 * for (const o of outcomes) if (!o.ok) logger.warn('alert not delivered', { channel: o.channel, reason: o.error });
 */
export async function deliverAlert(
  event: AlertEvent,
  notifiers: readonly Notifier[],
  lang: Language,
  options: FormatOptions & { readonly store?: Store; readonly clock?: Clock } = {},
): Promise<DeliveryOutcome[]> {
  const outcomes = await Promise.all(
    notifiers.map(async (n): Promise<DeliveryOutcome> => {
      try {
        if (n.channel === 'slack') await n.send(formatSlack(event, lang, options));
        else await n.send(formatEmail(event, lang, options));
        return { channel: n.channel, ok: true };
      } catch (err) {
        return { channel: n.channel, ok: false, error: reasonOf(err) };
      }
    }),
  );
  if (options.store && options.clock) {
    await options.store.appendAlert({ at: options.clock().toISOString(), event, outcomes });
  }
  return outcomes;
}
