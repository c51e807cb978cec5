/**
 * The email channel: Amazon SES v2 `SendEmail` with simple content (subject, text and HTML in
 * UTF-8) from the configured sender. The client is passed in, so tests and the local loop
 * point it at `aws-ses-v2-local`. The SDK retries throttling and 5xx itself.
 */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { DeliveryError } from '#core/errors.ts';
import type { EmailMessage } from '#core/alert/email.ts';
import type { Notifier } from '#core/ports.ts';

/** The AWS calls this module makes, each with the IAM action it needs (SES v2 SendEmail is `ses:SendEmail`). */
export const AWS_CALLS = { SendEmailCommand: ['ses:SendEmail'] } as const;

/** The SES client, sender and recipients. */
export interface SesEmailOptions {
  readonly client: SESv2Client;
  /** The verified sender (config `alerts.email.from`). */
  readonly from: string;
  /** The recipients (config `alerts.email.to`). */
  readonly to: readonly string[];
  /** An SES configuration set for delivery events, if the account uses one. */
  readonly configurationSetName?: string;
}

/**
 * A Notifier sending alerts by email through SES v2.
 * @example
 * const email = createSesEmailNotifier({ client: new SESv2Client({}), from: config.alerts.email.from, to: config.alerts.email.to });
 */
export function createSesEmailNotifier(options: SesEmailOptions): Extract<Notifier, { channel: 'email' }> {
  // Loaded on the first email, not at import: most alert runs never send one.
  let sdk: Promise<typeof import('@aws-sdk/client-sesv2')> | undefined;
  return {
    channel: 'email',
    async send(message: EmailMessage): Promise<void> {
      try {
        const { SendEmailCommand } = await (sdk ??= import('@aws-sdk/client-sesv2'));
        await options.client.send(
          new SendEmailCommand({
            FromEmailAddress: options.from,
            Destination: { ToAddresses: [...options.to] },
            Content: {
              Simple: {
                Subject: { Data: message.subject, Charset: 'UTF-8' },
                Body: {
                  Text: { Data: message.text, Charset: 'UTF-8' },
                  Html: { Data: message.html, Charset: 'UTF-8' },
                },
              },
            },
            ...(options.configurationSetName ? { ConfigurationSetName: options.configurationSetName } : {}),
          }),
        );
      } catch (err) {
        const name = err instanceof Error ? err.name : 'Error';
        const detail = err instanceof Error ? err.message : String(err);
        throw new DeliveryError(`SES did not take the alert email (${name}: ${detail})`, { cause: err });
      }
    },
  };
}
