/**
 * The alert Lambda's channels, from the deployed config: Slack (the webhook URL is the plain-text
 * value of the secret `SLACK_SECRET_ID`) and email (SES v2 from `alerts.email.from`). Each is
 * set up inside its own `send`, so a channel whose secret or client fails reports that as its
 * own failed outcome and never keeps the other channel from sending.
 */
import { createSesEmailNotifier } from '#adapters/ses-email.ts';
import { createSlackNotifier } from '#adapters/slack-webhook.ts';
import type { Config } from '#core/config.ts';
import { DeliveryError } from '#core/errors.ts';
import type { Notifier } from '#core/ports.ts';
import type { SecretReader } from '#adapters/secrets.ts';
import { onceAsync } from './lazy.ts';

// The alert Lambda runs 30 s: the Slack retries must end well inside it, email included.
const SLACK_RETRIES = 2;
const SLACK_TIMEOUT_MS = 5_000;
const SLACK_MAX_DELAY_MS = 4_000;

/** What the channels are built from. */
export interface NotifierSources {
  /** Name or ARN of the Slack webhook secret (`SLACK_SECRET_ID`); without it there is no Slack channel. */
  readonly slackSecretId?: string;
  readonly secrets: () => SecretReader;
}

/**
 * The configured channels, in a fixed order (Slack, then email). Empty when the config has
 * neither; the alerts then only reach the logs.
 */
export function alertNotifiers(config: Config, sources: NotifierSources): Notifier[] {
  const notifiers: Notifier[] = [];
  const secretName = sources.slackSecretId;
  if (config.alerts.slack && secretName) {
    notifiers.push({
      channel: 'slack',
      async send(message) {
        const url = await sources.secrets().get({ secretName });
        if (url === null) throw new DeliveryError(`the Slack webhook secret ${secretName} is empty; put the webhook URL into it`);
        await createSlackNotifier({ url, retries: SLACK_RETRIES, timeoutMs: SLACK_TIMEOUT_MS, maxDelayMs: SLACK_MAX_DELAY_MS }).send(message);
      },
    });
  }
  const email = config.alerts.email;
  if (email) {
    // The SES SDK is loaded on the first email, not at import.
    const ses = onceAsync(async () => createSesEmailNotifier({ client: new (await import('@aws-sdk/client-sesv2')).SESv2Client({}), from: email.from, to: email.to }));
    notifiers.push({ channel: 'email', send: async (message) => (await ses()).send(message) });
  }
  return notifiers;
}
