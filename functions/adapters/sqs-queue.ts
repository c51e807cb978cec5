/**
 * The alert queue, from the alert Lambda's side: Lambda's event source mapping receives and
 * deletes the messages; the function itself only hides a message it could not deliver for the
 * wait of its retry schedule (ChangeMessageVisibility), so a failed alert comes back later
 * instead of after the queue's fixed visibility timeout. The SQS client is loaded on the first
 * call: most batches deliver everything and never need it.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';

/** The AWS calls this module makes, each with the IAM action it needs. */
export const AWS_CALLS = { ChangeMessageVisibilityCommand: ['sqs:ChangeMessageVisibility'] } as const;

/** The queue and its client. */
export interface SqsQueueOptions {
  /** The queue's URL (`ALERT_QUEUE_URL`). */
  readonly queueUrl: string;
  /** @default a new SQSClient, created on the first call */
  readonly client?: SQSClient;
}

/** What the alert Lambda does with its queue. */
export interface RetryQueue {
  /** Hides a received message for `seconds` (0 to 43200) before it is delivered again. */
  retryIn(receiptHandle: string, seconds: number): Promise<void>;
}

/**
 * @example const queue = createSqsRetryQueue({ queueUrl: process.env.ALERT_QUEUE_URL! });
 * await queue.retryIn(record.receiptHandle, 300);
 */
export function createSqsRetryQueue(options: SqsQueueOptions): RetryQueue {
  let sdk: Promise<typeof import('@aws-sdk/client-sqs')> | undefined;
  let client: SQSClient | undefined = options.client;
  return {
    async retryIn(receiptHandle, seconds) {
      const { ChangeMessageVisibilityCommand, SQSClient } = await (sdk ??= import('@aws-sdk/client-sqs'));
      client ??= new SQSClient({});
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: options.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))) }));
    },
  };
}
