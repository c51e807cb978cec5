/**
 * The local runtime's alert wiring, shared by `mailhealth check --state` and `mailhealth run`:
 * notifiers built from the config (Slack webhook URL from the env var the config names; email
 * through SES only when configured), and, for the one-shot `check --state`, one call that
 * records a round and delivers its alerts at once (`run` queues them in its outbox instead).
 */
import type { Config } from '#core/config.ts';
import type { AlertEvent, DeliveryOutcome } from '#core/alert/event.ts';
import { deliverAlert } from '#core/health/deliver.ts';
import { recordRound } from '#core/health/record.ts';
import type { Clock, Notifier, RandomSource, Store } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';
import { createSecretReader } from '#adapters/secrets.ts';
import { createSesEmailNotifier } from '#adapters/ses-email.ts';
import { createSlackNotifier } from '#adapters/slack-webhook.ts';

/** The channels a local run alerts on, and what the setup found missing (never a secret value). */
export interface NotifierSetup {
  readonly notifiers: Notifier[];
  readonly notes: string[];
  /**
   * The live channels in words, one each, e.g. `Slack (env SLACK_WEBHOOK_URL)` or `email through
   * SES in ap-northeast-1 as monitor@example.jp to owner@example.jp`; empty when none is.
   */
  readonly live: string[];
}

/**
 * The alert channels a local run can use. Locally secrets come from environment variables only:
 * a Slack channel whose `webhookUrlEnv` is unset is skipped with a note, not an error.
 * @param options.slackRetries retries inside one Slack send; `run` passes 0 because its outbox
 *   retries at the channel's pace itself (a 429 must not hold the sender for half a minute)
 */
export async function localNotifiers(config: Config, env: NodeJS.ProcessEnv, options: { readonly slackRetries?: number } = {}): Promise<NotifierSetup> {
  const notifiers: Notifier[] = [];
  const notes: string[] = [];
  const live: string[] = [];
  const slack = config.alerts.slack;
  if (slack) {
    const url = slack.webhookUrlEnv ? await createSecretReader({ env }).get({ envVar: slack.webhookUrlEnv }).catch(() => undefined) : undefined;
    if (url) {
      notifiers.push(createSlackNotifier({ url, ...(options.slackRetries !== undefined ? { retries: options.slackRetries } : {}) }));
      live.push(`Slack (env ${slack.webhookUrlEnv})`);
    } else notes.push(`Slack alerts off: set ${slack.webhookUrlEnv ?? 'alerts.slack.webhookUrlEnv'} to the webhook URL`);
  }
  const email = config.alerts.email;
  if (email) {
    // The SES SDK is a large chunk of the built CLI: loaded only when email alerts are configured.
    const { SESv2Client } = await import('@aws-sdk/client-sesv2');
    const client = new SESv2Client({});
    notifiers.push(createSesEmailNotifier({ client, from: email.from, to: email.to }));
    // The region as the SDK resolves it (AWS_REGION, else the profile's): the SES that will send.
    const region = await client.config.region().catch(() => null);
    const route = `as ${email.from} to ${email.to.join(', ')}`;
    live.push(region ? `email through SES in ${region} ${route}` : `email through SES ${route} (no AWS region: set AWS_REGION, or sending fails)`);
  }
  return { notifiers, notes, live };
}

/**
 * The line a local run starts with, so nobody is surprised by what it sends: which alert
 * channels are live, or that none is.
 * @example alertChannelsLine({ live: ['Slack (env SLACK_WEBHOOK_URL)'] }) // 'alerts: Slack (env SLACK_WEBHOOK_URL)'
 */
export function alertChannelsLine(setup: Pick<NotifierSetup, 'live'>): string {
  return setup.live.length
    ? `alerts: ${setup.live.join('; ')}`
    : 'alerts: no channel is live, nothing leaves this machine (alerts are recorded and printed; turn on alerts.slack or alerts.email in the config)';
}

export interface AlertedRound {
  readonly events: AlertEvent[];
  readonly deliveries: { readonly event: AlertEvent; readonly outcomes: DeliveryOutcome[] }[];
}

/**
 * Applies a round to the target's health state and delivers the alerts it raises (usually none).
 * A channel that fails is recorded in the outcomes; the round still completes.
 */
export async function recordAndAlert(
  result: TargetResult,
  deps: { readonly store: Store; readonly config: Config; readonly notifiers: readonly Notifier[]; readonly clock: Clock; readonly random: RandomSource },
): Promise<AlertedRound> {
  const events = await recordRound(result, { store: deps.store, clock: deps.clock, random: deps.random, config: deps.config.alerts });
  return { events, deliveries: await deliverEvents(events, deps) };
}

/**
 * Delivers alerts that were already raised (a bounce, an undelivered canary) to every channel
 * and keeps them in the history; one channel failing is an outcome, not an error.
 */
export async function deliverEvents(
  events: readonly AlertEvent[],
  deps: { readonly store: Store; readonly config: Pick<Config, 'language'>; readonly notifiers: readonly Notifier[]; readonly clock: Clock },
): Promise<AlertedRound['deliveries']> {
  const deliveries = [];
  for (const event of events) {
    const outcomes = await deliverAlert(event, deps.notifiers, deps.config.language, { store: deps.store, clock: deps.clock });
    deliveries.push({ event, outcomes });
  }
  return deliveries;
}
