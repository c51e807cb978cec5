/**
 * The alert Lambda's channels, one per destination of a route (functions/core/alert/routes.ts):
 * a Slack incoming webhook whose URL is the plain-text value of the destination's secret (the
 * default channel's from `SLACK_SECRET_ID`, which the stack sets even for the secret it
 * created), and email through SES v2 from the destination's sender. Each is set up inside its
 * own `send`, so a destination whose secret or client fails reports that as its own failure and
 * never keeps another from sending. Built once per destination and kept for the container.
 */
import { createSesEmailNotifier } from '#adapters/ses-email.ts';
import { createSlackNotifier } from '#adapters/slack-webhook.ts';
import type { SecretReader } from '#adapters/secrets.ts';
import type { AlertDestination } from '#core/alert/routes.ts';
import { DeliveryError } from '#core/errors.ts';
import type { Notifier } from '#core/ports.ts';
import { onceAsync } from './lazy.ts';

// One try per Slack post: the alert queue retries on its own schedule, and a Retry-After goes
// into that schedule instead of holding the Lambda.
const SLACK_RETRIES = 0;
const SLACK_TIMEOUT_MS = 5_000;

/** What the channels are built from. */
export interface NotifierSources {
  /** Name or ARN of the default Slack webhook's secret (`SLACK_SECRET_ID`). */
  readonly slackSecretId?: string;
  readonly secrets: () => SecretReader;
}

/**
 * A function giving the notifier of a destination, ready to send: its secret read and its
 * client made, so a send does nothing before its request (the pace counts from when a send
 * starts). The same notifier for the same destination id; a failed setup is tried again next time.
 * @example const notifierOf = destinationNotifiers({ slackSecretId, secrets: secretReader }); await (await notifierOf(dest)).send(message);
 */
export function destinationNotifiers(sources: NotifierSources): (dest: AlertDestination) => Promise<Notifier> {
  const built = new Map<string, () => Promise<Notifier>>();
  // The SES SDK is loaded on the first email, not at import; one client for every sender.
  const sesClient = onceAsync(async () => new (await import('@aws-sdk/client-sesv2')).SESv2Client({}));
  const make = (dest: AlertDestination) => async (): Promise<Notifier> => {
    if (dest.channel === 'email') return createSesEmailNotifier({ client: await sesClient(), from: dest.from, to: dest.to });
    // The default webhook's secret is the one the stack names (it may have created it); a route's is its own.
    const secretName = dest.route === null ? (sources.slackSecretId ?? dest.secretName) : dest.secretName;
    if (!secretName) throw new DeliveryError(`the Slack destination ${dest.id} has no secret: set its secretName in the config and deploy again`, { permanent: true });
    const url = await sources.secrets().get({ secretName });
    if (url === null) throw new DeliveryError(`the Slack webhook secret ${secretName} is empty; put the webhook URL into it`);
    return createSlackNotifier({ url, retries: SLACK_RETRIES, timeoutMs: SLACK_TIMEOUT_MS });
  };
  return (dest) => {
    let ready = built.get(dest.id);
    if (!ready) {
      ready = onceAsync(make(dest));
      built.set(dest.id, ready);
    }
    return ready();
  };
}
