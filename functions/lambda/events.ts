/**
 * The event shapes the handlers accept, as zod schemas (the `zod/mini` build: a few KB in a
 * bundle where the full build costs about 450 KB). Only the fields the handlers read are
 * declared; AWS sends more and the rest is dropped.
 */
import * as z from 'zod/mini';
import { InputError } from '#core/errors.ts';

const nonEmpty = () => z.string().check(z.minLength(1));

/**
 * What EventBridge Scheduler sends the canary: the schedule's input (lib/canary.ts
 * `CanaryScheduleInput`), `{"targets":["<name>",…],"scheduledTime":"<ISO>"}`, the time being the
 * round's nominal time (the scheduler's `<aws.scheduler.scheduled-time>`). `{"target":"<name>"}`
 * (one target, no time) is accepted too, for a round started by hand: it sends the canary.
 */
export const schedulerInputSchema = z
  .object({
    target: z.optional(nonEmpty()),
    targets: z.optional(z.array(nonEmpty()).check(z.minLength(1))),
    scheduledTime: z.optional(z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'not a time'))),
  })
  .check(z.refine((input) => input.target !== undefined || input.targets !== undefined, { message: 'target or targets is required', path: ['targets'] }));
export type SchedulerInput = z.infer<typeof schedulerInputSchema>;

/** What EventBridge Scheduler sends the sweeper: `{"scheduledTime":"<ISO>"}` (informational). */
export const sweeperInputSchema = z.object({ scheduledTime: z.optional(z.string()) });

const verdict = z.optional(z.object({ status: z.string() }));

/**
 * The SES receipt event of a Lambda action: headers only. The message itself is in S3 at the
 * S3 action's `objectKeyPrefix` + `mail.messageId`.
 */
export const sesReceiptEventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventSource: z.literal('aws:ses'),
        ses: z.object({
          mail: z.object({
            // SES message ids are lower-case letters and digits; nothing else may become a key.
            messageId: z.string().check(z.regex(/^[A-Za-z0-9._-]{1,200}$/)),
            timestamp: z.optional(z.string()),
            /** The envelope sender (MAIL FROM): a canary's VERP address. */
            source: z.optional(z.string()),
          }),
          receipt: z.object({
            recipients: z.array(z.string()),
            spamVerdict: verdict,
            virusVerdict: verdict,
            // What SES concluded about the message's authentication (the delivered canary's).
            spfVerdict: verdict,
            dkimVerdict: verdict,
            dmarcVerdict: verdict,
            dmarcPolicy: z.optional(z.string()),
          }),
        }),
      }),
    )
    .check(z.minLength(1)),
});
export type SesReceiptEvent = z.infer<typeof sesReceiptEventSchema>;

/** An SNS event: alert events the canary and bounce Lambdas published, or CloudWatch alarm notifications. */
export const snsEventSchema = z.object({
  Records: z
    .array(
      z.object({
        EventSource: z.literal('aws:sns'),
        Sns: z.object({
          MessageId: nonEmpty(),
          TopicArn: z.string(),
          Message: z.string(),
        }),
      }),
    )
    .check(z.minLength(1)),
});
export type SnsEvent = z.infer<typeof snsEventSchema>;

/**
 * An SQS event of the alert queue (Lambda's event source mapping): each body is what the alert
 * topic carried (raw message delivery): an alert event, or a CloudWatch alarm notification.
 */
export const sqsEventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventSource: z.literal('aws:sqs'),
        messageId: nonEmpty(),
        receiptHandle: nonEmpty(),
        body: z.string(),
        attributes: z.object({ ApproximateReceiveCount: z.string().check(z.regex(/^\d+$/)) }),
      }),
    )
    .check(z.minLength(1)),
});
export type SqsEvent = z.infer<typeof sqsEventSchema>;

/** The answer to an SQS event: the messages to try again (the others are deleted). */
export interface SqsBatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/**
 * What the digest schedule sends the bounce Lambda (lib/bounce-intake.ts): close the bounce
 * digests whose window is over and publish them. `scheduledTime` is informational.
 */
export const digestFlushEventSchema = z.object({ flushDigests: z.literal(true), scheduledTime: z.optional(z.string()) });
export type DigestFlushEvent = z.infer<typeof digestFlushEventSchema>;

/**
 * Validates an event. Throws an InputError that says which fields are wrong, never what they
 * contain (an event may carry addresses and message headers).
 * @example const { target } = parseEvent(schedulerInputSchema, event, 'scheduler input');
 */
export function parseEvent<S extends z.ZodMiniType>(schema: S, event: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data as z.infer<S>;
  const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.code}`);
  throw new InputError(`not a ${what}: ${problems.join('; ')}`);
}
