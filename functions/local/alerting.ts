/**
 * The local runtime's alert wiring, shared by `mailhealth check --state` and `mailhealth run`:
 * a notifier per destination of every route (config `alerts` and `alerts.routes`: a Slack
 * webhook from the env var it names, email through SES), and, for the one-shot
 * `check --state`, one call that records a round and delivers its alerts at once, grouped per
 * destination and at each webhook's pace (`run` queues them in its outbox instead).
 */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Config } from '#core/config.ts';
import type { AlertEvent, DeliveryOutcome } from '#core/alert/event.ts';
import { formatEmailPost } from '#core/alert/email.ts';
import { planPosts, type AlertPost } from '#core/alert/group.ts';
import { allRoutes, routeOf, type AlertDestination } from '#core/alert/routes.ts';
import { formatSlackPost } from '#core/alert/slack.ts';
import type { Language } from '#core/findings.ts';
import { recordRound } from '#core/health/record.ts';
import type { Clock, Notifier, RandomSource, Store } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';
import { createSesEmailNotifier } from '#adapters/ses-email.ts';
import { createSlackNotifier } from '#adapters/slack-webhook.ts';

/** A destination this machine can send to, with its notifier. */
export type LocalDestination = AlertDestination & { readonly notifier: Notifier };

/** An alert's route as this machine delivers it: its language and the destinations it can send to. */
export interface LocalRoute {
  /** The route's name; null for the default channels. */
  readonly name: string | null;
  readonly language: Language;
  /** Empty when none of the route's channels can send from here: the alert only reaches the history. */
  readonly destinations: readonly LocalDestination[];
}

/** Where alerts go from this machine. */
export interface AlertChannels {
  /** The route of an alert (functions/core/alert/routes.ts) with its destinations that can send. */
  routeOf(event: AlertEvent): LocalRoute;
  /** Every destination that can send, once each, the default channels first. */
  readonly live: readonly LocalDestination[];
}

/**
 * The channels of a config given a notifier per destination id (those missing cannot send).
 * @example const channels = alertChannels(config, new Map([['slack', slack], ['slack@shop-owner', shopSlack]]));
 */
export function alertChannels(config: Config, notifiers: ReadonlyMap<string, Notifier>): AlertChannels {
  const live = (destinations: readonly AlertDestination[]): LocalDestination[] =>
    destinations.flatMap((d) => {
      const notifier = notifiers.get(d.id);
      return notifier && notifier.channel === d.channel ? [{ ...d, notifier }] : [];
    });
  const seen = new Set<string>();
  const all = allRoutes(config)
    .flatMap((r) => live(r.destinations))
    .filter((d) => !seen.has(d.id) && Boolean(seen.add(d.id)));
  return {
    routeOf(event) {
      const route = routeOf(event, config);
      return { name: route.name, language: route.language, destinations: live(route.destinations) };
    },
    live: all,
  };
}

/**
 * Every alert to the same notifiers, in one language, without routes: the demo's capture, and
 * runtimes built without a config's channels (tests).
 */
export function fixedChannels(notifiers: readonly Notifier[], language: Language): AlertChannels {
  const destinations: LocalDestination[] = notifiers.map((notifier) =>
    notifier.channel === 'slack'
      ? { channel: 'slack', id: 'slack', route: null, paceKey: 'slack', notifier }
      : { channel: 'email', id: 'email', route: null, from: '', to: [], paceKey: 'email', notifier },
  );
  return { routeOf: () => ({ name: null, language, destinations }), live: destinations };
}

/** The channels a local run alerts on, and what the setup found missing (never a secret value). */
export interface ChannelSetup {
  readonly channels: AlertChannels;
  readonly notes: string[];
  /**
   * The live default channels in words, one each, e.g. `Slack (env SLACK_WEBHOOK_URL)` or
   * `email through SES in ap-northeast-1 as monitor@example.jp to owner@example.jp`.
   */
  readonly live: string[];
  /** Each route in words: its language and its live channels, e.g. `shop-owner (ja): Slack (env SHOP_SLACK_URL), email to owner@shop.example.jp`. */
  readonly routes: string[];
}

/**
 * The line a local run starts with, so nobody is surprised by what it sends: which alert
 * channels are live, the default ones and each route's, or that none is.
 * @example alertChannelsLine(setup) // 'alerts: Slack (env DESK_SLACK_URL) · routes: shop-owner (ja): Slack (env SHOP_SLACK_URL)'
 */
export function alertChannelsLine(setup: Pick<ChannelSetup, 'channels' | 'live' | 'routes'>): string {
  if (setup.channels.live.length === 0) {
    return 'alerts: no channel is live, nothing leaves this machine (alerts are recorded and printed; turn on alerts.slack or alerts.email in the config)';
  }
  const own = setup.live.length ? setup.live.join('; ') : 'no default channel is live';
  return `alerts: ${own}${setup.routes.length ? ` · routes: ${setup.routes.join('; ')}` : ''}`;
}

/** The config path of a route's Slack webhook variable, for a note. */
function slackField(config: Config, route: string | null): string {
  if (route === null) return 'alerts.slack.webhookUrlEnv';
  return `alerts.routes[${config.alerts.routes.findIndex((r) => r.name === route)}].slack.webhookUrlEnv`;
}

/**
 * The alert channels a local run can use, one notifier per destination of every route. Locally
 * secrets come from environment variables only: a Slack destination whose `webhookUrlEnv` is
 * unset is skipped with a note, not an error (its route's email still goes out).
 * @param options.slackRetries retries inside one Slack send; `run` passes 0 because its outbox
 *   retries at the webhook's pace itself (a 429 must not hold the sender for half a minute)
 * @param options.sesClient the SES client (tests point one at a stand-in). @default a new SESv2Client
 * @example const { channels, notes } = await localAlertChannels(config, process.env, { slackRetries: 0 });
 */
export async function localAlertChannels(
  config: Config,
  env: NodeJS.ProcessEnv,
  options: { readonly slackRetries?: number; readonly sesClient?: SESv2Client } = {},
): Promise<ChannelSetup> {
  const notifiers = new Map<string, Notifier>();
  const notes: string[] = [];
  // One note per missing variable, naming every route that waits for it.
  const missing = new Map<string, (string | null)[]>();
  let ses: SESv2Client | undefined = options.sesClient;
  const done = new Set<string>();
  for (const route of allRoutes(config)) {
    for (const d of route.destinations) {
      // A route without channels of its own lists the default ones again.
      if (done.has(d.id)) continue;
      done.add(d.id);
      if (d.channel === 'slack') {
        const url = d.webhookUrlEnv ? env[d.webhookUrlEnv] : undefined;
        if (url) {
          notifiers.set(d.id, createSlackNotifier({ url, ...(options.slackRetries !== undefined ? { retries: options.slackRetries } : {}) }));
        } else {
          const what = d.webhookUrlEnv ?? slackField(config, d.route);
          missing.set(what, [...(missing.get(what) ?? []), d.route]);
        }
      } else {
        if (!ses) {
          // The SES SDK is a large chunk of the built CLI: loaded only when email alerts are configured.
          const { SESv2Client } = await import('@aws-sdk/client-sesv2');
          ses = new SESv2Client({});
        }
        notifiers.set(d.id, createSesEmailNotifier({ client: ses, from: d.from, to: d.to }));
      }
    }
  }
  for (const [what, routes] of missing) {
    const named = routes.filter((r): r is string => r !== null);
    const whose = named.length === 0 ? 'Slack alerts' : routes.includes(null) ? `Slack alerts (default channels and route ${named.join(', ')})` : `Slack alerts of route ${named.join(', ')}`;
    notes.push(`${whose} off: set ${what} to the webhook URL`);
  }
  const channels = alertChannels(config, notifiers);
  // The region as the SDK resolves it (AWS_REGION, else the profile's): the SES that will send.
  const region = ses ? await ses.config.region().catch(() => null) : null;
  const through = region ? `through SES in ${region}` : 'through SES (no AWS region: set AWS_REGION, or sending fails)';
  let sesNamed = false;
  const words = (d: AlertDestination): string => {
    if (d.channel === 'slack') return `Slack (env ${d.webhookUrlEnv})`;
    const first = !sesNamed;
    sesNamed = true;
    const sender = d.route === null || d.from !== config.alerts.email?.from ? ` as ${d.from}` : '';
    return `email${first ? ` ${through}` : ''}${sender} to ${d.to.join(', ')}`;
  };
  const [defaults, ...routed] = allRoutes(config);
  const live = defaults!.destinations.filter((d) => notifiers.has(d.id)).map(words);
  const routes = routed.map((r) => {
    const own = config.alerts.routes.find((x) => x.name === r.name)!;
    const head = `${r.name} (${r.language})`;
    if (!own.slack && !own.email) return `${head}: the default channels`;
    const on = r.destinations.filter((d) => notifiers.has(d.id)).map(words);
    return `${head}: ${on.length ? on.join(', ') : 'no channel is live'}`;
  });
  return { channels, notes, live, routes };
}

/** How one post went: the alerts it carried, where, and its outcome. */
export interface PostOutcome {
  readonly post: AlertPost<LocalDestination>;
  readonly outcome: DeliveryOutcome;
}

/** A round's alerts and where each went. */
export interface AlertedRound {
  readonly events: AlertEvent[];
  /** Per alert, one outcome per destination of its route (none: no channel could send it). */
  readonly deliveries: { readonly event: AlertEvent; readonly outcomes: DeliveryOutcome[] }[];
  /** Per post (several health alerts of one destination share one). */
  readonly posts: PostOutcome[];
}

/** What delivering needs. */
export interface DeliveryDeps {
  readonly store: Store;
  readonly channels: AlertChannels;
  readonly clock: Clock;
  /**
   * The least time between two posts of one webhook (slack) or of SES (email), in ms.
   * @default slack 1000 (a webhook takes about one post a second), email 1000
   */
  readonly paceMs?: Partial<Record<'slack' | 'email', number>>;
  /** At most this many health alerts per post. @default MAX_GROUP */
  readonly maxGroup?: number;
  /** Waits between posts. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Applies the rounds to the targets' health states and delivers the alerts they raise (usually
 * none) at once: the alerts of all targets together, so those that fall due together for one
 * destination share a post. A channel that fails is recorded in the outcomes; the round still completes.
 */
export async function recordAndAlert(
  results: readonly TargetResult[],
  deps: DeliveryDeps & { readonly config: Config; readonly random: RandomSource },
): Promise<AlertedRound> {
  const events: AlertEvent[] = [];
  for (const result of results) events.push(...(await recordRound(result, { store: deps.store, clock: deps.clock, random: deps.random, config: deps.config.alerts })));
  return { events, ...(await deliverEvents(events, deps)) };
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function sendPost(post: AlertPost<LocalDestination>): Promise<DeliveryOutcome> {
  const d = post.destination;
  const where = { destination: d.id, route: d.route };
  try {
    if (d.notifier.channel === 'slack') await d.notifier.send(formatSlackPost(post.events, post.language));
    else await d.notifier.send(formatEmailPost(post.events, post.language));
    return { channel: d.channel, ok: true, ...where };
  } catch (err) {
    return { channel: d.channel, ok: false, error: reasonOf(err), ...where };
  }
}

/**
 * Delivers alerts that were already raised to their routes and keeps them in the history:
 * health alerts first, grouped per destination; the posts of one webhook (of SES) one after the
 * other at its pace, different webhooks side by side. One channel failing is an outcome, not an error.
 */
export async function deliverEvents(events: readonly AlertEvent[], deps: DeliveryDeps): Promise<Omit<AlertedRound, 'events'>> {
  const posts = planPosts(events, (e) => deps.channels.routeOf(e), deps.maxGroup !== undefined ? { max: deps.maxGroup } : {});
  const pace = { slack: 1000, email: 1000, ...deps.paceMs };
  const sleep = deps.sleep ?? realSleep;
  const byPace = new Map<string, AlertPost<LocalDestination>[]>();
  for (const post of posts) byPace.set(post.destination.paceKey, [...(byPace.get(post.destination.paceKey) ?? []), post]);
  const done: PostOutcome[] = [];
  await Promise.all(
    [...byPace.values()].map(async (queue) => {
      for (const [i, post] of queue.entries()) {
        if (i > 0) await sleep(pace[post.destination.channel]);
        done.push({ post, outcome: await sendPost(post) });
      }
    }),
  );
  const deliveries = events.map((event) => ({
    event,
    outcomes: deps.channels
      .routeOf(event)
      .destinations.map((d) => done.find((p) => p.post.destination.id === d.id && p.post.events.includes(event))?.outcome)
      .filter((o): o is DeliveryOutcome => o !== undefined),
  }));
  for (const { event, outcomes } of deliveries) await deps.store.appendAlert({ at: deps.clock().toISOString(), event, outcomes });
  return { deliveries, posts: posts.map((post) => done.find((p) => p.post === post)!) };
}

const NAMED_TARGETS = 5;

/**
 * One line for a post, for a log or stderr: what it carried and where it went.
 * @example postLine(p) // 'alert failing for shop, clinic → Slack (route shop-owner), 2 alerts in one post'
 */
export function postLine({ post, outcome }: PostOutcome): string {
  const kinds = new Map<string, number>();
  for (const e of post.events) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
  const what = [...kinds].map(([kind, n]) => (n > 1 ? `${kind} ×${n}` : kind)).join(', ');
  const targets = [...new Set(post.events.map((e) => e.target ?? '(no target)'))];
  const named = targets.slice(0, NAMED_TARGETS).join(', ') + (targets.length > NAMED_TARGETS ? ` and ${targets.length - NAMED_TARGETS} more` : '');
  const d = post.destination;
  const where = `${d.channel === 'slack' ? 'Slack' : 'email'}${d.route !== null ? ` (route ${d.route})` : ''}`;
  const grouped = post.events.length > 1 ? `, ${post.events.length} alerts in one post` : '';
  return `alert ${what} for ${named} → ${where}${grouped}${outcome.ok ? '' : ` failed: ${outcome.error}`}`;
}
