/**
 * AlertDelivery: how an alert on the topic reaches the alert Lambda without being lost. The
 * topic delivers into an SQS queue (raw messages; SNS retries into SQS itself); the alert
 * Lambda reads the queue in small batches, reports the messages a destination still lacks as
 * batch item failures and hides each for its retry wait (functions/core/alert/retry.ts: a
 * minute doubling to an hour, a channel's Retry-After honoured). A message still undelivered
 * after `maxReceiveCount` tries (24 hours and more) moves to the dead-letter queue, kept 14
 * days, whose alarm goes to the topic; `aws sqs start-message-move-task --source-arn <dead-letter
 * queue ARN>` moves its messages back to the queue once the channel is fixed (the README).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { receivesSpanning, RETRY_SPAN_SECONDS } from '../functions/core/alert/retry.ts';
import { MAX_GROUP } from '../functions/core/alert/group.ts';

/** The alert Lambda's environment variable naming its queue (it sets a failed message's retry wait there). */
export const ALERT_QUEUE_ENV = 'ALERT_QUEUE_URL';

/** What the event source mapping does on the queue, and what the alert Lambda itself calls. */
export const QUEUE_CONSUMER_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'] as const;

/**
 * Messages per invocation, and how long the queue gathers them: the health alerts of a batch
 * that go to one destination share a post (up to MAX_GROUP of them), so targets failing together
 * (a provider down) are a few posts; other alerts take about a second each at a webhook's pace.
 */
export const ALERT_BATCH_SIZE = MAX_GROUP;
const ALERT_BATCH_WINDOW_SECONDS = 5;
/** An alert older than this in the queue alarms: one hour of a channel refusing it. */
const STUCK_AFTER_SECONDS = 3600;

/** Alert Lambdas at once (the least SQS allows): the channels' pace is shared anyway. */
export const ALERT_MAX_CONCURRENCY = 2;

/** Properties of {@link AlertDelivery}. */
export interface AlertDeliveryProps {
  /** The alert topic. */
  readonly topic: sns.ITopic;
  /** The alert Lambda. */
  readonly alertFunction: lambda.IFunction;
  /** Its execution role. */
  readonly role: iam.IRole;
  /**
   * How long delivery keeps trying before an alert is dead-lettered.
   * @default 24 hours (RETRY_SPAN_SECONDS)
   */
  readonly retrySpan?: Duration;
}

/** The alert queue, its dead-letter queue and alarm, and the alert Lambda's subscription to it. */
export class AlertDelivery extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** Tries of a message before it is dead-lettered. */
  readonly maxReceiveCount: number;
  /** Alarms as soon as an alert is dead-lettered. */
  readonly deadLetterAlarm: cloudwatch.Alarm;
  /**
   * Alarms when an alert has waited in the queue for an hour: a channel has been down that long.
   * Without it an outage would only show a day later, when its alerts are dead-lettered (the
   * alert Lambda reports a failed send as a batch item failure, not as an error).
   */
  readonly stuckAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AlertDeliveryProps) {
    super(scope, id);
    const span = props.retrySpan?.toSeconds() ?? RETRY_SPAN_SECONDS;
    this.maxReceiveCount = receivesSpanning(span);
    const timeout = props.alertFunction instanceof lambda.Function ? props.alertFunction.timeout : undefined;
    const timeoutSeconds = timeout?.toSeconds() ?? 60;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A Lambda that died mid-batch leaves its messages hidden this long (AWS asks for 6x the timeout).
      visibilityTimeout: Duration.seconds(6 * timeoutSeconds),
      // Longer than every try together, so no alert expires before it is dead-lettered.
      retentionPeriod: Duration.seconds(Math.min(1_209_600, Math.max(4 * 86_400, 2 * span))),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
    });
    // SNS → SQS with the queue policy allowing this topic only (aws:SourceArn).
    props.topic.addSubscription(new subscriptions.SqsSubscription(this.queue, { rawMessageDelivery: true }));

    // The mapping polls with the function's role: exactly what it and the function call.
    iam.Grant.addToPrincipal({ grantee: props.role, actions: [...QUEUE_CONSUMER_ACTIONS], resourceArns: [this.queue.queueArn] });
    const mapping = new lambda.EventSourceMapping(this, 'Mapping', {
      target: props.alertFunction,
      eventSourceArn: this.queue.queueArn,
      batchSize: ALERT_BATCH_SIZE,
      maxBatchingWindow: Duration.seconds(ALERT_BATCH_WINDOW_SECONDS),
      reportBatchItemFailures: true,
      maxConcurrency: ALERT_MAX_CONCURRENCY,
    });
    // The role's policy must exist before the mapping starts polling.
    const policy = props.role.node.tryFindChild('DefaultPolicy');
    if (policy) mapping.node.addDependency(policy);

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmName: `${Stack.of(this).stackName}-alert-dead-letters`,
      alarmDescription:
        'An alert could not be delivered for 24 hours and is in the dead-letter queue. Fix the channel (Slack webhook secret, SES sender), then move the messages back: aws sqs start-message-move-task --source-arn <the dead-letter queue ARN>.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deadLetterAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.topic));

    this.stuckAlarm = new cloudwatch.Alarm(this, 'StuckAlarm', {
      alarmName: `${Stack.of(this).stackName}-alerts-waiting`,
      alarmDescription:
        'An alert has waited in the alert queue for over an hour: a channel (Slack, SES) has refused it since. Delivery keeps trying for 24 hours; check the alert Lambda\'s log for the channel\'s error.',
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: STUCK_AFTER_SECONDS,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.stuckAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.topic));
    this.stuckAlarm.addOkAction(new cloudwatchActions.SnsAction(props.topic));
  }

  /** Sends both alarms also to `topic` (the alarms' own email topic, around the alert Lambda that cannot deliver). */
  notifyAlso(topic: sns.ITopic): void {
    this.deadLetterAlarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    this.stuckAlarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    this.stuckAlarm.addOkAction(new cloudwatchActions.SnsAction(topic));
  }
}
