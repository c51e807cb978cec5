/**
 * Delivering alerts in AWS: to each destination of their route (functions/core/alert/routes.ts),
 * in the route's language, each destination on its own. Health alerts that arrive together (one
 * batch of the alert queue) and go to one destination share a post (functions/core/alert/group.ts:
 * a provider down for many targets is a few posts, not one per target); the rest go one by one.
 *
 * - Delivery state per destination: `delivered#<alert key>#<destination id>` is claimed once the
 *   destination took the alert, so a retry (of the queue, or a message delivered twice) sends
 *   only to the destinations still missing it: a Slack outage never re-sends the email, an SES
 *   throttle never re-posts Slack, one route's outage never touches another route.
 * - One sender at a time per destination and alert: a lease `sending#<key>#<id>` keeps two
 *   Lambdas given the same message from posting it twice. A grouped post carries the alerts
 *   whose lease it took; each is marked delivered to that destination when the post went out.
 * - Each channel keeps its pace across every Lambda: a send first takes a slot of its pace key
 *   in the table (`pace#<key>#<slot>`, one slot per second for a Slack webhook, 1/maxPerSecond
 *   for the SES account) and starts at the slot's beginning.
 */
import type { AlertEvent, DeliveryOutcome } from '#core/alert/event.ts';
import { formatEmailPost } from '#core/alert/email.ts';
import { planPosts } from '#core/alert/group.ts';
import type { AlertDestination, AlertRoute } from '#core/alert/routes.ts';
import { formatSlackPost } from '#core/alert/slack.ts';
import type { Language } from '#core/findings.ts';
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

/**
 * Sends one post (one alert, or a group of health alerts) to one destination: the alerts it
 * already has are left out, each of the others is leased, the post waits for a free slot of
 * the destination's pace and goes out once. One outcome per alert, by its key.
 */
async function deliverPost(events: readonly AlertEvent[], language: Language, dest: AlertDestination, deps: DeliveryDeps): Promise<Map<string, DestinationOutcome>> {
  const { store } = deps;
  const { id, channel } = dest;
  const outcomes = new Map<string, DestinationOutcome>();
  const leased: AlertEvent[] = [];
  const doneKey = (e: AlertEvent) => `delivered#${e.key}#${id}`;
  const leaseKey = (e: AlertEvent) => `sending#${e.key}#${id}`;
  try {
    for (const e of events) {
      if ((await store.claimedUntil(doneKey(e))) !== null) outcomes.set(e.key, { id, channel, state: 'already' });
      else if (!(await store.claim(leaseKey(e), LEASE_SECONDS))) outcomes.set(e.key, { id, channel, state: 'busy', error: 'another delivery of this alert is sending to it', retryAfterMs: null });
      // Taken between our look and our lease by the sender that just let go.
      else if ((await store.claimedUntil(doneKey(e))) !== null) {
        await store.release(leaseKey(e));
        outcomes.set(e.key, { id, channel, state: 'already' });
      } else leased.push(e);
    }
    if (leased.length === 0) return outcomes;
    const failAll = (error: string, retryAfterMs: number | null) => {
      for (const e of leased) outcomes.set(e.key, { id, channel, state: 'failed', error, retryAfterMs });
    };
    let notifier: Notifier;
    try {
      notifier = await deps.notifierOf(dest);
    } catch (err) {
      failAll(reasonOf(err), null);
      return outcomes;
    }
    const paceMs = channel === 'slack' ? SLACK_PACE_MS : deps.emailPaceMs;
    if (!(await takePaceSlot(store, dest.paceKey, paceMs, deps.clock, deps.sleep ?? realSleep))) {
      for (const e of leased) outcomes.set(e.key, { id, channel, state: 'busy', error: `no free send slot of ${dest.paceKey} within ${MAX_PACE_WAIT_MS / 1000} s`, retryAfterMs: null });
      return outcomes;
    }
    try {
      if (notifier.channel === 'slack') await notifier.send(formatSlackPost(leased, language));
      else await notifier.send(formatEmailPost(leased, language));
    } catch (err) {
      failAll(reasonOf(err), err instanceof DeliveryError ? err.retryAfterMs : null);
      return outcomes;
    }
    for (const e of leased) {
      await store.claim(doneKey(e), CLAIM_TTL_SECONDS);
      outcomes.set(e.key, { id, channel, state: 'sent' });
    }
    return outcomes;
  } finally {
    await Promise.all(leased.map((e) => store.release(leaseKey(e))));
  }
}

/**
 * Delivers alerts to every destination of their routes that does not have them yet: health
 * alerts for one destination (and language) grouped into posts of at most MAX_GROUP, the rest
 * alone; different destinations side by side, one destination's posts one after the other.
 * Resolves with the outcomes of each alert (by key), one per destination of its route; never
 * rejects because a destination failed. An alert every destination now has goes into the
 * history once.
 * @example const outcomes = await deliverAlerts(alerts, (a) => routeOf(a, config), { store, clock, notifierOf, emailPaceMs: 1000 });
 */
export async function deliverAlerts(events: readonly AlertEvent[], routeOf: (event: AlertEvent) => AlertRoute, deps: DeliveryDeps): Promise<Map<string, DestinationOutcome[]>> {
  // A message the queue handed over twice in one batch is one alert.
  const unique = [...new Map(events.map((e) => [e.key, e])).values()];
  const posts = planPosts(unique, routeOf);
  const byDestination = new Map<string, typeof posts>();
  for (const post of posts) byDestination.set(post.destination.id, [...(byDestination.get(post.destination.id) ?? []), post]);
  const outcomes = new Map<string, DestinationOutcome[]>(unique.map((e) => [e.key, []]));
  await Promise.all(
    [...byDestination.values()].map(async (queue) => {
      for (const post of queue) {
        for (const [key, outcome] of await deliverPost(post.events, post.language, post.destination, deps)) outcomes.get(key)!.push(outcome);
      }
    }),
  );
  for (const event of unique) {
    // In the order of the route's destinations, whatever order the posts ended in.
    const order = routeOf(event).destinations.map((d) => d.id);
    const mine = outcomes.get(event.key)!.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    if (mine.length > 0 && mine.some((o) => o.state === 'sent') && mine.every((o) => o.state === 'sent' || o.state === 'already')) {
      const record: DeliveryOutcome[] = mine.map((o) => ({ channel: o.channel, ok: true }));
      await deps.store.appendAlert({ at: deps.clock().toISOString(), event, outcomes: record });
    }
  }
  return outcomes;
}
