/**
 * MailHealthStack: the whole AWS deployment of mail-health, built from the one config file.
 *
 * ## Contract between this stack and the Lambda handlers
 *
 * Environment variables (names exported as {@link HANDLER_ENV}):
 *
 * | variable | functions | value |
 * |---|---|---|
 * | `MAILHEALTH_CONFIG_FILE` | canary, bounce, alert, sweeper | `mailhealth.config.json`: the path, relative to the bundle root (`LAMBDA_TASK_ROOT`, `/var/task`), of the deployed config, a JSON file the stack writes into every function's bundle (see below). |
 * | `TABLE_NAME` | canary, bounce, alert, sweeper | The DynamoDB table: partition key `pk` (S), sort key `sk` (S), TTL attribute `ttl` (epoch seconds), on demand. |
 * | `ALERT_TOPIC_ARN` | canary, bounce, sweeper | The encrypted SNS alert topic: publish alerts here; the alert Lambda delivers them. |
 * | `ROUND_INTERVAL_SECONDS` | canary | The normal gap between two scheduled rounds of a target (a cron schedule has no rate to read it from); with `roundTripSchedule` it decides which rounds send the canary message. |
 * | `SILENT_AFTER_SECONDS` | sweeper | No round recorded for this long makes a target silent (two intervals, the flexible window and the canary's timeout). |
 * | `RAW_MAIL_BUCKET` | bounce | The bucket SES stores each received message in. |
 * | `RAW_MAIL_PREFIX` | bounce | `raw/`: the object key is this prefix + the SES `mail.messageId` of the event. |
 * | `SLACK_SECRET_ID` | alert (only with `alerts.slack`) | Name or ARN of the Secrets Manager secret whose plain-text value is the default Slack webhook URL (a route's secret is its `slack.secretName` in the deployed config). |
 * | `ALERT_QUEUE_URL` | alert | The alert queue (SNS → SQS): the alert Lambda hides a message it could not deliver for its retry wait (ChangeMessageVisibility). |
 * | `POWERTOOLS_SERVICE_NAME` | all | `mail-health` (Powertools Metrics adds it as the dimension `service`). |
 * | `POWERTOOLS_METRICS_NAMESPACE` | all | `MailHealth`. |
 * | `POWERTOOLS_LOG_LEVEL` | all | `INFO`. |
 * | `NODE_OPTIONS` | all | `--enable-source-maps`. |
 *
 * The deployed config file: the resolved `Config` as JSON, validated at synth with every default
 * filled in and `language` resolved, so read it with `JSON.parse(text) as Config`
 * (`readDeployedConfig` in functions/lambda/env.ts) and do not import the zod schema (it would add
 * about 440 KB to each bundle and break the bundle size targets). Every field arrives as given
 * except, by the rules of lib/deployed-config.ts (a field without a rule does not compile, one
 * no rule knows is refused at synth): no secrets and no `$schema` or `local`; `auth` keeps
 * `user`, `secretName` and `secretKey`, `alerts.slack` keeps `secretName` only, a target's `ca`
 * is the path of its PEM copied into the bundle, relative to the config file
 * (`ca/<target>.pem`). The handlers use `retention.historyDays` as the TTL of history items;
 * the stack uses `retention.rawMailDays` for the raw-mail bucket. It still passes
 * `parseConfig`, and it may be of any size (an environment variable would hold 4 KB; 500
 * targets make about 180 KB). A changed config changes the bundles' hashes, so a deploy
 * updates the functions' code.
 *
 * Secrets: an SMTP target's secret (`auth.secretName`) holds the password as plain text; the
 * canary may read exactly those secrets. Alert email is sent through SES (`ses:SendEmail` or
 * `ses:SendRawEmail`, v1 or v2 API) from `alerts.email.from` only, without a configuration set.
 *
 * Events: the scheduler invokes the canary asynchronously with
 * `{"targets":["<name>",…],"scheduledTime":"<ISO>"}` (`CanaryScheduleInput`: one target per
 * schedule up to 250 targets, then shared schedules), no retry of a failed round; a round sends
 * the canary message when its scheduled time is the target's round trip, else it checks the
 * login only. The scheduler invokes the sweeper with `{"scheduledTime":"<ISO>"}` on its own
 * schedule. SES invokes the bounce Lambda asynchronously with its receipt event (headers only)
 * after storing the message. The alert topic delivers into the alert queue (raw messages), and
 * the queue's event source mapping invokes the alert Lambda with batches of alerts (kinds in
 * functions/core/alert/event.ts, `silent` from the sweeper) and CloudWatch alarm notifications,
 * expecting partial batch failures; an alarm on one target's `CanarySuccess` is not delivered
 * (the health state machine speaks). Alerts are raised into the table's outbox with the
 * decision that raised them, published, and marked sent; the sweeper publishes again those
 * left unsent.
 * Every alarm also notifies a topic of its own (lib/monitoring.ts) that SNS emails to
 * `alerts.alarmEmails` (default `alerts.email.to`) without any Lambda: the alarms on the alert
 * Lambda reach someone when it fails.
 *
 * Metrics (namespace `MailHealth`; every metric also carries `service=mail-health`). Each
 * distinct metric is billed every month, so there is one per target and none per step, code or
 * anything else that multiplies: `CanarySuccess` {Target} 1 for a good round (ok or warning:
 * the login, or the message on a round trip, went through), else 0, one per round; `Bounces`
 * {Reason} without Target, one per bounced recipient (the bounce-spike alarm and the dashboard).
 * The session and step timings, the certificate's days left, the findings and the round trip
 * are log fields (below), charted by Logs Insights.
 *
 * Logs: one JSON line per finding with the fields `finding.code`, `finding.severity`, `target`
 * and `message` (the dashboard's findings table reads the canary and bounce log groups); one
 * line per canary round, `message` = `canary round`, with `target`, `status`, `canaryId`,
 * `roundTrip`, `sessionMs`, `stepMs.<step>` (connect … quit, summed when a step repeats),
 * `tls.certDaysLeft` and `findings` (codes); one line per arrived canary in the bounce log
 * group, `message` = `canary delivered`, with `target` and `roundTripSeconds`; one line per
 * sweep in the sweeper's, `message` = `sweep`, with the targets by state (`ok`, `warning`,
 * `failing`, `unseen`) and `silentCount`; one line per delivered canary with SES's verdicts,
 * `message` = `canary authentication`, with `target`, `canaryId`, `spf`, `dkim` (a list, one
 * result per signature) and `dmarc`. Powertools writes WARN and ERROR lines (a warning or
 * critical finding is WARN) to stderr and the others, EMF metrics included, to stdout; Lambda
 * sends both streams to the function's log group, so whatever reads the lines outside AWS must
 * read both.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnOutput, Duration, Stack, Stage, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { Config } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { AWS_CALLS as TABLE_CALLS } from '../functions/adapters/dynamodb-store.ts';
import { Alerting, ALERT_QUEUE_ENV, SLACK_SECRET_ENV } from './alerting.ts';
import { BOUNCE_ENV, BounceIntake } from './bounce-intake.ts';
import { CONFIG_FILE_ENV } from '../functions/lambda/env.ts';
import { Canary, ROUND_INTERVAL_ENV } from './canary.ts';
import { deployedConfig } from './deployed-config.ts';
import { Monitoring } from './monitoring.ts';
import { SILENT_AFTER_ENV, Sweeper } from './sweeper.ts';

export { deployedConfig } from './deployed-config.ts';

/** The names of the environment variables the handlers read (see the table above). */
export const HANDLER_ENV = {
  configFile: CONFIG_FILE_ENV,
  tableName: 'TABLE_NAME',
  alertTopicArn: 'ALERT_TOPIC_ARN',
  rawMailBucket: BOUNCE_ENV.bucket,
  rawMailPrefix: BOUNCE_ENV.prefix,
  slackSecretId: SLACK_SECRET_ENV,
  alertQueueUrl: ALERT_QUEUE_ENV,
  roundIntervalSeconds: ROUND_INTERVAL_ENV,
  silentAfterSeconds: SILENT_AFTER_ENV,
} as const;

/** The DynamoDB actions every function's role has on the table: the store adapter's calls. */
export const TABLE_ACTIONS: readonly string[] = [...new Set(Object.values(TABLE_CALLS).flat())].sort();

/** The deployed config's file name inside every bundle (and `MAILHEALTH_CONFIG_FILE`'s value). */
export const DEPLOYED_CONFIG_FILE = 'mailhealth.config.json';

/** Properties of {@link MailHealthStack}. */
export interface MailHealthStackProps extends StackProps {
  /** The parsed config file (the same file the CLI reads). */
  readonly config: Config;
  /**
   * Make the bounce receipt rule set the active one at deploy time (an account has one active set).
   * @default false
   */
  readonly activateRuleSet?: boolean;
  /**
   * Add the bounce receipt rule to this existing rule set of the account (by name; usually the
   * active one) instead of creating a set of its own: only one set can be active per region.
   * @default a rule set of its own
   */
  readonly existingRuleSetName?: string;
  /**
   * The longest normal gap between two canary rounds, for the alarms' periods.
   * @default taken from a `rate(...)` schedule; required with a `cron(...)` schedule
   */
  readonly canaryInterval?: Duration;
  /**
   * Retention of the functions' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How long raw received messages are kept.
   * @default the config's `retention.rawMailDays`
   */
  readonly rawMailRetention?: Duration;
  /**
   * Failure bounces per hour that raise the bounce-spike alarm.
   * @default 5
   */
  readonly bounceSpikeThreshold?: number;
}

/** The gap between runs of a `rate(N unit)` expression; undefined for `cron(...)`. */
export function rateInterval(schedule: string): Duration | undefined {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2]!;
  if (unit.startsWith('minute')) return Duration.minutes(n);
  if (unit.startsWith('hour')) return Duration.hours(n);
  return Duration.days(n);
}

/** Everything mail-health runs on in AWS. */
export class MailHealthStack extends Stack {
  /** State, canaries, bounces and alert keys (pk/sk, TTL `ttl`). */
  readonly table: dynamodb.Table;
  /** The canary Lambda and its schedules. */
  readonly canary: Canary;
  /** The SES receipt rule set, raw-mail bucket and bounce Lambda. */
  readonly bounceIntake: BounceIntake;
  /** The alert topic and alert Lambda. */
  readonly alerting: Alerting;
  /** The dashboard and alarms. */
  readonly monitoring: Monitoring;
  /** The dead-man: notices targets that stop reporting. */
  readonly sweeper: Sweeper;
  /** The deployed config file on the synthesizing machine, as copied into every bundle. */
  readonly configFile: string;

  constructor(scope: Construct, id: string, props: MailHealthStackProps) {
    super(scope, id, props);
    const { config } = props;

    const interval = props.canaryInterval ?? rateInterval(config.schedule);
    if (!interval) {
      throw new ConfigError(
        `schedule: ${config.schedule} is a cron expression, so the alarms cannot tell how long silence is normal; pass the longest gap between two runs (cdk -c canaryIntervalMinutes=N)`,
        'schedule',
      );
    }
    this.configFile = this.writeDeployedConfig(deployedConfig(config));

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
    });

    const shared = { [HANDLER_ENV.configFile]: DEPLOYED_CONFIG_FILE, [HANDLER_ENV.tableName]: this.table.tableName };
    const configFiles = { [DEPLOYED_CONFIG_FILE]: this.configFile };

    this.alerting = new Alerting(this, 'Alerting', { alerts: config.alerts, environment: shared, extraFiles: configFiles, logRetention: props.logRetention });
    const publishing = { ...shared, [HANDLER_ENV.alertTopicArn]: this.alerting.topic.topicArn };

    this.canary = new Canary(this, 'Canary', {
      targets: config.targets,
      schedule: config.schedule,
      interval,
      environment: publishing,
      extraFiles: configFiles,
      logRetention: props.logRetention,
    });
    this.bounceIntake = new BounceIntake(this, 'BounceIntake', {
      bounceDomain: config.bounceDomain,
      environment: publishing,
      extraFiles: configFiles,
      activateRuleSet: props.activateRuleSet,
      ...(props.existingRuleSetName !== undefined ? { existingRuleSetName: props.existingRuleSetName } : {}),
      rawMailRetention: props.rawMailRetention ?? Duration.days(config.retention.rawMailDays),
      logRetention: props.logRetention,
      // Without bounce grouping there is no digest to send.
      ...(config.alerts.bounceDigestMinutes > 0 ? {} : { digestFlushInterval: null }),
    });

    // Rounds come once per interval somewhere in the flexible window; two missed rounds, the
    // window and a round's longest run make a target silent.
    const sweepInterval = Duration.minutes(Math.min(Math.max(interval.toMinutes(), 5), 15));
    const silentSeconds =
      Math.max(2 * interval.toSeconds() + (this.canary.window?.toSeconds() ?? 0), 2 * sweepInterval.toSeconds()) + this.canary.canaryFunction.function.timeout!.toSeconds();
    this.sweeper = new Sweeper(this, 'Sweeper', {
      interval: sweepInterval,
      silentAfter: Duration.minutes(Math.ceil(silentSeconds / 60)),
      environment: publishing,
      extraFiles: configFiles,
      schedulerRole: this.canary.schedulerRole,
      deadLetterQueue: this.canary.deadLetterQueue,
      logRetention: props.logRetention,
    });

    const functions = {
      canary: this.canary.canaryFunction,
      bounce: this.bounceIntake.bounceFunction,
      alert: this.alerting.alertFunction,
      sweeper: this.sweeper.sweeperFunction,
    };
    // Exactly the table operations the store adapter makes (functions/adapters/dynamodb-store.ts).
    for (const fn of Object.values(functions)) this.table.grant(fn.role, ...TABLE_ACTIONS);
    for (const fn of [functions.canary, functions.bounce, functions.sweeper]) this.alerting.grantPublish(fn.role);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      targetCount: config.targets.length,
      interval,
      roundTripInterval: rateInterval(config.roundTripSchedule)!,
      alarmTopic: this.alerting.topic,
      // The alarms' second path: straight from SNS to these addresses, around the alert Lambda.
      alarmEmail: { to: config.alerts.alarmEmails ?? config.alerts.email?.to ?? [], key: this.alerting.key },
      functions: Object.fromEntries(Object.entries(functions).map(([label, fn]) => [label, fn.function])),
      throttleWatched: [functions.bounce.function, functions.alert.function],
      sweeper: { function: this.sweeper.sweeperFunction.function, interval: sweepInterval, logGroup: this.sweeper.sweeperFunction.logGroup },
      findingsLogGroups: [this.canary.canaryFunction.logGroup, this.bounceIntake.bounceFunction.logGroup],
      canaryLogGroup: this.canary.canaryFunction.logGroup,
      bounceLogGroup: this.bounceIntake.bounceFunction.logGroup,
      bounceSpikeThreshold: props.bounceSpikeThreshold,
    });
    // The alarms about alert delivery itself matter most on the path around the alert Lambda.
    if (this.monitoring.alarmEmailTopic) this.alerting.delivery.notifyAlso(this.monitoring.alarmEmailTopic);

    new CfnOutput(this, 'AlertTopicArn', { value: this.alerting.topic.topicArn, description: 'Alerts and alarm notifications' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'RawMailBucketName', { value: this.bounceIntake.bucket.bucketName });
    new CfnOutput(this, 'ReceiptRuleSetName', {
      value: this.bounceIntake.ruleSetName,
      description:
        props.existingRuleSetName !== undefined
          ? 'The existing rule set the bounce rule was added to'
          : 'Activate with: aws ses set-active-receipt-rule-set --rule-set-name <this> (or deploy with -c activateRuleSet=true, or add the rule to the active set with -c receiptRuleSet=NAME)',
    });
    if (this.alerting.createdSlackSecret) {
      new CfnOutput(this, 'SlackWebhookSecretArn', {
        value: this.alerting.createdSlackSecret.secretArn,
        description: 'Put the Slack incoming webhook URL (plain text) into this secret',
      });
    }
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });

    this.suppressNagFindings();
  }

  /**
   * Writes the deployed config where the bundling step copies it from: a file in the cloud
   * assembly's directory (cdk.out), one per stack.
   */
  private writeDeployedConfig(config: Config): string {
    const dir = join(Stage.of(this)?.outdir ?? tmpdir(), `${this.artifactId}.mailhealth`);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, DEPLOYED_CONFIG_FILE);
    writeFileSync(path, JSON.stringify(config));
    return path;
  }

  /** The cdk-nag AwsSolutions findings we accept, each with the reason. */
  private suppressNagFindings(): void {
    NagSuppressions.addResourceSuppressions(this.bounceIntake.bucket, [
      {
        id: 'AwsSolutions-S1',
        reason: 'Only SES writes to the raw-mail bucket and only the bounce Lambda reads it; objects expire. An access-log bucket would cost more than the data it audits (use CloudTrail data events if needed).',
      },
    ]);
    NagSuppressions.addResourceSuppressions(this.canary.deadLetterQueue, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the canary schedules.' },
    ]);
    NagSuppressions.addResourceSuppressions(
      this.bounceIntake.bounceFunction.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'The bounce Lambda reads the raw messages SES writes under raw/; the object keys are SES message ids, unknown in advance.',
          appliesTo: [{ regex: '/^Resource::<BounceIntakeRawMail[0-9A-F]+\\.Arn>\\/raw\\/\\*$/' }],
        },
      ],
      true,
    );
    if (this.canary.secretPrefix !== undefined) {
      NagSuppressions.addResourceSuppressions(
        this.canary.canaryFunction.role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason: `The targets name more SMTP secrets than an IAM policy can list, all under ${this.canary.secretPrefix}; the canary may read only secrets of that prefix.`,
            appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:.*\\*$/' }],
          },
        ],
        true,
      );
    }
    const activation = this.bounceIntake.ruleSetActivation;
    if (activation) {
      NagSuppressions.addResourceSuppressions(
        activation.handler.role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason: 'ses:SetActiveReceiptRuleSet and ses:DescribeActiveReceiptRuleSet support no resource-level permissions; the actions are named exactly.',
            appliesTo: ['Resource::*'],
          },
        ],
        true,
      );
      NagSuppressions.addResourceSuppressions(
        activation.provider,
        [
          {
            id: 'AwsSolutions-IAM4',
            reason: 'The CDK custom resource Provider framework creates its function with the Lambda basic execution policy; it only writes logs.',
            appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
          },
          {
            id: 'AwsSolutions-IAM5',
            reason: 'The CDK custom resource Provider framework invokes the activator function and its versions (<arn>:*); it can invoke nothing else.',
            appliesTo: [{ regex: '/^Resource::<BounceIntakeRuleSetActivatorFunction[0-9A-F]+\\.Arn>:\\*$/' }],
          },
        ],
        true,
      );
    }
    if (this.alerting.createdSlackSecret) {
      NagSuppressions.addResourceSuppressions(this.alerting.createdSlackSecret, [
        { id: 'AwsSolutions-SMG4', reason: 'The Slack webhook URL is issued by Slack and can only be replaced there, not rotated by a Lambda.' },
      ]);
    }
  }
}
