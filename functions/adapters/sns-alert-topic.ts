/**
 * The SNS alert topic, from the publishing side (the canary and bounce Lambdas): each alert
 * event becomes one message that the alert Lambda decodes (`decodeAlertMessage` in
 * functions/core/alert/sns.ts) and delivers. The SNS client is loaded on the first publish:
 * most rounds raise no alert, and then the SDK's SNS package is never loaded at all.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AlertEvent } from '#core/alert/event.ts';
import { DeliveryError } from '#core/errors.ts';

/**
 * The AWS calls this module makes, each with the IAM actions it needs: publishing to the
 * encrypted topic also asks KMS for a data key on the caller's behalf.
 */
export const AWS_CALLS = { PublishCommand: ['sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt'] } as const;

/** The topic and its client. */
export interface SnsAlertTopicOptions {
  /** The alert topic's ARN (`ALERT_TOPIC_ARN`). */
  readonly topicArn: string;
  /**
   * The client to use.
   * @default a new SNSClient with the SDK's default configuration, created on the first publish
   */
  readonly client?: SNSClient;
}

/** Publishes alert events to the alert topic. */
export interface AlertPublisher {
  /** Publishes one event; resolves with the SNS message id, rejects with a DeliveryError. */
  publish(event: AlertEvent): Promise<string>;
}

/**
 * The SNS message body of an alert event: the event as JSON, which `decodeAlertMessage` reads
 * back. Written here rather than imported from core/alert/sns.ts because that module builds its
 * zod schemas when loaded, which would add about 375 KB to the canary bundle.
 */
export function alertMessageBody(event: AlertEvent): string {
  return JSON.stringify(event);
}

/**
 * A publisher to the alert topic. The `kind` and `status` message attributes let further
 * subscribers filter (e.g. only `critical`) without parsing the body.
 * @example
 * const topic = createSnsAlertTopic({ topicArn: process.env.ALERT_TOPIC_ARN! });
 * for (const event of events) await topic.publish(event);
 */
export function createSnsAlertTopic(options: SnsAlertTopicOptions): AlertPublisher {
  let sdk: Promise<typeof import('@aws-sdk/client-sns')> | undefined;
  let client: SNSClient | undefined = options.client;
  return {
    async publish(event) {
      sdk ??= import('@aws-sdk/client-sns');
      const { PublishCommand, SNSClient } = await sdk;
      client ??= new SNSClient({});
      try {
        const out = await client.send(
          new PublishCommand({
            TopicArn: options.topicArn,
            Message: alertMessageBody(event),
            MessageAttributes: {
              kind: { DataType: 'String', StringValue: event.kind },
              status: { DataType: 'String', StringValue: event.status },
            },
          }),
        );
        return out.MessageId ?? '';
      } catch (err) {
        const name = err instanceof Error ? err.name : 'Error';
        throw new DeliveryError(`the alert ${event.key} could not be published to the alert topic (${name})`, { cause: err });
      }
    },
  };
}
