/**
 * Delivering one alert in AWS: to each destination of its route (functions/core/alert/routes.ts),
 * in the route's language, each destination on its own.
 *
 * - Delivery state per destination: `delivered#<alert key>#<destination id>` is claimed once the
 *   destination took the alert, so a retry (of the queue, or a message delivered twice) sends
 *   only to the destinations still missing it: a Slack outage never re-sends the email, an SES
 *   throttle never re-posts Slack, one route's outage never touches another route.
 * - One sender at a time per destination and alert: a lease `sending#<key>#<id>` keeps two
 *   Lambdas given the same message from posting it twice.
 * - Each channel keeps its pace across every Lambda: a send first takes a slot of its pace key
 *   in the table (`pace#<key>#<slot>`, one slot per second for a Slack webhook, 1/maxPerSecond
 *   for the SES account) and starts at the slot's beginning.
 */
import type { AlertEvent, DeliveryOutcome } from '#core/alert/event.ts';
import { formatEmail } from '#core/alert/email.ts';
import type { AlertDestination, AlertRoute } from '#core/alert/routes.ts';
import { formatSlack } from '#core/alert/slack.ts';
import { DeliveryError } from '#core/errors.ts';
import { CLAIM_TTL_SECONDS } from '#core/health/record.ts';
import type { Clock, Notifier, Store } from '#core/ports.ts';

/**
 * A Slack webhook's pace: Slack takes about one post a second per webhook. A little over a
 * second, so that requests taking different times on the way never arrive less than one apart.
 */
export const SLACK_PACE_MS = 1_100;
/** A destination's sender holds its lease this long at most (a Lambda that died mid-send frees it then). */
const LEASE_SECONDS = 90;
/** The longest a send waits for a free slot of its pace; beyond, the alert is retried later. */
const MAX_PACE_WAIT_MS = 15_000;

/** What one destination did with the alert. */
export type DestinationOutcome =
  | { readonly id: string; readonly channel: 'slack' | 'email'; readonly state: 'sent' | 'already' }
  | { readonly id: string; readonly channel: 'slack' | 'email'; readonly state: 'failed' | 'busy'; readonly error: string; readonly retryAfterMs: number | null };

/** What delivery needs. */
export interface DeliveryDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** The destination's notifier, ready to send (its secret read). */
  readonly notifierOf: (dest: AlertDestination) => Promise<Notifier>;
  /** ms between two emails (the SES account's rate: 1000 / alerts.email.maxPerSecond). */
  readonly emailPaceMs: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Takes the next free send slot of a pace key and waits for its start. False when none is free
 * within MAX_PACE_WAIT_MS (the channel is busy: try the alert again later).
 */
export async function takePaceSlot(store: Store, paceKey: string, paceMs: number, clock: Clock, sleep: (ms: number) => Promise<void>): Promise<boolean> {
  const first = Math.ceil(clock().getTime() / paceMs);
  const slots = Math.max(1, Math.ceil(MAX_PACE_WAIT_MS / paceMs));
  const ttl = Math.ceil((MAX_PACE_WAIT_MS + paceMs) / 1000) + 60;
  for (let slot = first; slot < first + slots; slot++) {
    if (!(await store.claim(`pace#${paceKey}#${slot}`, ttl))) continue;
    const wait = slot * paceMs - clock().getTime();
    if (wait > 0) await sleep(wait);
    return true;
  }
  return false;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function deliverTo(event: AlertEvent, route: AlertRoute, dest: AlertDestination, deps: DeliveryDeps): Promise<DestinationOutcome> {
  const { store } = deps;
  const id = dest.id;
  const channel = dest.channel;
  const done = `delivered#${event.key}#${id}`;
  if ((await store.claimedUntil(done)) !== null) return { id, channel, state: 'already' };
  const lease = `sending#${event.key}#${id}`;
  if (!(await store.claim(lease, LEASE_SECONDS))) return { id, channel, state: 'busy', error: 'another delivery of this alert is sending to it', retryAfterMs: null };
  try {
    // Taken between our look and our lease by the sender that just let go.
    if ((await store.claimedUntil(done)) !== null) return { id, channel, state: 'already' };
    let notifier: Notifier;
    try {
      notifier = await deps.notifierOf(dest);
    } catch (err) {
      return { id, channel, state: 'failed', error: reasonOf(err), retryAfterMs: null };
    }
    const paceMs = channel === 'slack' ? SLACK_PACE_MS : deps.emailPaceMs;
    if (!(await takePaceSlot(store, dest.paceKey, paceMs, deps.clock, deps.sleep ?? realSleep))) {
      return { id, channel, state: 'busy', error: `no free send slot of ${dest.paceKey} within ${MAX_PACE_WAIT_MS / 1000} s`, retryAfterMs: null };
    }
    try {
      if (notifier.channel === 'slack') await notifier.send(formatSlack(event, route.language));
      else await notifier.send(formatEmail(event, route.language));
    } catch (err) {
      return { id, channel, state: 'failed', error: reasonOf(err), retryAfterMs: err instanceof DeliveryError ? err.retryAfterMs : null };
    }
    await store.claim(done, CLAIM_TTL_SECONDS);
    return { id, channel, state: 'sent' };
  } finally {
    await store.release(lease);
  }
}

/**
 * Delivers an alert to every destination of its route that does not have it yet, side by side.
 * Resolves with one outcome per destination; never rejects because a destination failed.
 * When every destination has it, the alert and its outcomes go into the history once.
 * @example const outcomes = await deliverToRoute(alert, routeOf(alert, config), { store, clock, notifierOf, emailPaceMs: 1000 });
 */
export async function deliverToRoute(event: AlertEvent, route: AlertRoute, deps: DeliveryDeps): Promise<DestinationOutcome[]> {
  const outcomes = await Promise.all(route.destinations.map((d) => deliverTo(event, route, d, deps)));
  if (outcomes.length > 0 && outcomes.some((o) => o.state === 'sent') && outcomes.every((o) => o.state === 'sent' || o.state === 'already')) {
    const record: DeliveryOutcome[] = outcomes.map((o) => ({ channel: o.channel, ok: true }));
    await deps.store.appendAlert({ at: deps.clock().toISOString(), event, outcomes: record });
  }
  return outcomes;
}
