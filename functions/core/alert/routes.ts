/**
 * Who hears about an alert: the route of its target (config `alerts.routes`, `targets[].route`)
 * or the default channels of `alerts`. Pure: the shells (the local outbox, the alert Lambda)
 * build one notifier per destination and deliver each alert to its route's destinations only.
 *
 * A destination is one channel of one route. Its `id` keys delivery state (a Slack outage of
 * one route never re-sends the email, nor another route's Slack); its `paceKey` keys the pace
 * (Slack takes about one post a second per webhook, so two routes naming one webhook share it).
 */
import type { Config } from '../config.ts';
import type { Language } from '../findings.ts';
import type { AlertEvent } from './event.ts';

/** A Slack incoming webhook of a route. */
export interface SlackDestination {
  readonly channel: 'slack';
  /** `slack` for the default channels, `slack@<route>` for a route's. */
  readonly id: string;
  /** The route's name; null for the default channels. */
  readonly route: string | null;
  /** Where the webhook URL comes from: an environment variable (local runs) … */
  readonly webhookUrlEnv?: string;
  /** … or a Secrets Manager secret, by name or ARN (AWS). */
  readonly secretName?: string;
  /** Destinations with one key share one pace: one webhook, however many routes name it. */
  readonly paceKey: string;
}

/** The email recipients of a route, sent through SES. */
export interface EmailDestination {
  readonly channel: 'email';
  /** `email` for the default channels, `email@<route>` for a route's. */
  readonly id: string;
  readonly route: string | null;
  readonly from: string;
  readonly to: readonly string[];
  /** SES's sending rate is the account's: every email destination shares one pace. */
  readonly paceKey: string;
}

export type AlertDestination = SlackDestination | EmailDestination;

/** A route resolved against the config: its language and its destinations (Slack first). */
export interface AlertRoute {
  /** The route's name; null for the default channels of `alerts`. */
  readonly name: string | null;
  readonly language: Language;
  /** Empty when nothing is configured: the alert then only reaches the history and the logs. */
  readonly destinations: readonly AlertDestination[];
}

/**
 * Alerts about the monitor itself: an alarm on a Lambda (a target's own canary alarms are
 * spoken for by its health state) and targets gone silent. They go to the default channels.
 */
const MONITOR_WIDE: ReadonlySet<AlertEvent['kind']> = new Set(['alarm', 'silent']);

const idOf = (channel: 'slack' | 'email', route: string | null) => (route === null ? channel : `${channel}@${route}`);

function slackPaceKey(slack: { readonly webhookUrlEnv?: string; readonly secretName?: string }): string {
  return slack.secretName !== undefined ? `slack:secret:${slack.secretName}` : `slack:env:${slack.webhookUrlEnv ?? ''}`;
}

function defaultRoute(config: Config): AlertRoute {
  const { slack, email } = config.alerts;
  const destinations: AlertDestination[] = [];
  if (slack) destinations.push({ channel: 'slack', id: 'slack', route: null, ...slack, paceKey: slackPaceKey(slack) });
  if (email) destinations.push({ channel: 'email', id: 'email', route: null, from: email.from, to: email.to, paceKey: 'email' });
  return { name: null, language: config.language, destinations };
}

/**
 * The route named `name` (null or absent: the default channels). A route with no channel of
 * its own falls back to the default channels, in its own language. Throws on a name the config
 * does not have: parseConfig refuses such a config, so this is a bug.
 * @example routeNamed(config, 'shop-owner').destinations.map((d) => d.id) // ['slack@shop-owner', 'email@shop-owner']
 */
export function routeNamed(config: Config, name: string | null | undefined): AlertRoute {
  if (name === null || name === undefined) return defaultRoute(config);
  const route = config.alerts.routes.find((r) => r.name === name);
  if (!route) throw new Error(`alert route ${name} is not in the config`);
  const language = route.language ?? config.language;
  const destinations: AlertDestination[] = [];
  if (route.slack) destinations.push({ channel: 'slack', id: idOf('slack', name), route: name, ...route.slack, paceKey: slackPaceKey(route.slack) });
  if (route.email) {
    // parseConfig makes sure one of the two senders is there.
    const from = route.email.from ?? config.alerts.email!.from;
    destinations.push({ channel: 'email', id: idOf('email', name), route: name, from, to: route.email.to, paceKey: 'email' });
  }
  if (destinations.length === 0) return { ...defaultRoute(config), name, language };
  return { name, language, destinations };
}

/**
 * The route of a target: its `route`, else the default channels. A target the config does not
 * have (an old record after a rename) goes to the default channels.
 */
export function routeOfTarget(config: Config, target: string | null): AlertRoute {
  const t = target === null ? undefined : config.targets.find((x) => x.name === target);
  return routeNamed(config, t?.route);
}

/**
 * The route an alert goes to: its target's route; alerts about the monitor itself and alerts
 * without a target (an unmatched bounce) go to the default channels.
 * @example for (const d of routeOf(event, config).destinations) outbox.queue(event, d.id);
 */
export function routeOf(event: AlertEvent, config: Config): AlertRoute {
  if (MONITOR_WIDE.has(event.kind)) return defaultRoute(config);
  return routeOfTarget(config, event.target);
}

/**
 * Every route of the config, the default channels first, each once: what a shell builds its
 * notifiers from (one per destination id).
 */
export function allRoutes(config: Config): AlertRoute[] {
  return [defaultRoute(config), ...config.alerts.routes.map((r) => routeNamed(config, r.name))];
}
