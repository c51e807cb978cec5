/**
 * Canary: the canary Lambda and one EventBridge Scheduler schedule per target. Each schedule's
 * input names its target, so one function serves every target, one target per invocation.
 */
import { Arn, ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TargetConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { MailFunction } from './mail-function.ts';

/** SMTP steps after connect that wait for one reply each: greeting, EHLO, STARTTLS, EHLO, AUTH, MAIL, DATA, QUIT. */
const STEPS_BESIDES_RCPT = 8;
/** Headroom for the work around the SMTP session: the secret, the table, the alert topic. */
const HANDLER_OVERHEAD_SECONDS = 20;
const LAMBDA_MAX_SECONDS = 900;

/** The event the scheduler sends the canary Lambda: which target to check. */
export interface CanaryScheduleInput {
  /** The `name` of a target in the config. */
  readonly target: string;
}

/** Where a target's private CA file (config `ca`) is in the canary bundle, relative to its root and to the config file. */
export function canaryCaBundlePath(targetName: string): string {
  return `ca/${targetName}.pem`;
}

/**
 * The longest a canary round for these targets can take when every wait runs into its timeout
 * (the port probes, the connect, one reply per step and per recipient), plus handler overhead.
 * Throws a ConfigError naming the target when that exceeds Lambda's 15 minutes.
 */
export function canaryTimeout(targets: readonly TargetConfig[]): Duration {
  let worst = 30;
  targets.forEach((t, i) => {
    const ms = t.timeouts.probeMs * t.probePorts.length + t.timeouts.connectMs + t.timeouts.stepMs * (STEPS_BESIDES_RCPT + t.to.length);
    const seconds = Math.ceil(ms / 1000) + HANDLER_OVERHEAD_SECONDS;
    if (seconds > LAMBDA_MAX_SECONDS) {
      throw new ConfigError(
        `targets[${i}].timeouts: a round for ${t.name} may take ${seconds} s when every step times out, above Lambda's ${LAMBDA_MAX_SECONDS} s; lower timeouts.stepMs or the number of recipients`,
        `targets[${i}].timeouts`,
      );
    }
    worst = Math.max(worst, seconds);
  });
  return Duration.seconds(worst);
}

/** Properties of {@link Canary}. */
export interface CanaryProps {
  /** The targets to check (config `targets`); each gets its own schedule. */
  readonly targets: readonly TargetConfig[];
  /** The schedule expression of every target: `rate(...)` or `cron(...)` (config `schedule`). */
  readonly schedule: string;
  /** The longest normal gap between two rounds: bounds the scheduler's and Lambda's retries. */
  readonly interval: Duration;
  /** Environment shared by every handler (the stack's contract). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Files copied into the function's bundle (the deployed config), keyed by their path in it.
   * @default none
   */
  readonly extraFiles?: Readonly<Record<string, string>>;
  /**
   * Log retention of the canary function.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Memory of the canary function in MB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * How many times the scheduler retries an invocation Lambda refused (throttling, service errors).
   * @default 3
   */
  readonly scheduleRetryAttempts?: number;
}

/**
 * A scheduler target invoking the canary function with a role that may invoke exactly that
 * function (the stock LambdaInvoke target also grants every version and alias, `:*`).
 */
class CanaryInvocation implements scheduler.IScheduleTarget {
  constructor(
    private readonly props: {
      readonly functionArn: string;
      readonly role: iam.IRole;
      readonly input: CanaryScheduleInput;
      readonly deadLetterQueue: sqs.IQueue;
      readonly maxEventAge: Duration;
      readonly retryAttempts: number;
    },
  ) {}

  bind(): scheduler.ScheduleTargetConfig {
    return {
      arn: this.props.functionArn,
      role: this.props.role,
      input: scheduler.ScheduleTargetInput.fromObject(this.props.input),
      deadLetterConfig: { arn: this.props.deadLetterQueue.queueArn },
      retryPolicy: {
        maximumEventAgeInSeconds: this.props.maxEventAge.toSeconds(),
        maximumRetryAttempts: this.props.retryAttempts,
      },
    };
  }
}

/** The canary Lambda, its schedules, the scheduler's role and dead-letter queue. */
export class Canary extends Construct {
  /** The canary Lambda. */
  readonly canaryFunction: MailFunction;
  /** One schedule per target, keyed by target name. */
  readonly schedules: ReadonlyMap<string, scheduler.Schedule>;
  /** The role EventBridge Scheduler assumes to invoke the canary. */
  readonly schedulerRole: iam.Role;
  /** Invocations the scheduler could not deliver after its retries. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: CanaryProps) {
    super(scope, id);
    if (props.targets.length === 0) throw new Error('Canary: targets must not be empty');
    const retryAttempts = props.scheduleRetryAttempts ?? 3;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new Error(`Canary: scheduleRetryAttempts ${retryAttempts} must be an integer from 0 to 185`);
    }
    // A round delivered after the next one is due is worthless: the next round checks again.
    const maxEventAge = Duration.seconds(Math.min(Math.max(props.interval.toSeconds(), 60), 86_400));

    const extraFiles: Record<string, string> = { ...props.extraFiles };
    for (const t of props.targets) if (t.ca) extraFiles[canaryCaBundlePath(t.name)] = t.ca;

    this.canaryFunction = new MailFunction(this, 'CanaryFunction', {
      entry: 'functions/canary/index.ts',
      description: 'mail-health: one canary round (port probe, SMTP session, canary mail) for the target named in the event',
      timeout: canaryTimeout(props.targets),
      memorySize: props.memorySize ?? 256,
      environment: props.environment,
      logRetention: props.logRetention,
      // A retried round would send a second canary mail; the next scheduled round retries anyway.
      retryAttempts: 0,
      maxEventAge: Duration.seconds(Math.min(maxEventAge.toSeconds(), 6 * 3600)),
      extraFiles,
    });

    // Exactly the secrets the targets name, nothing wider.
    const secretNames = [...new Set(props.targets.flatMap((t) => (t.auth?.secretName ? [t.auth.secretName] : [])))];
    secretNames.forEach((name, i) => {
      secretsmanager.Secret.fromSecretNameV2(this, `SmtpSecret${i}`, name).grantRead(this.canaryFunction.role);
    });

    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const stack = Stack.of(this);
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to invoke the mail-health canary',
      // Only schedules of this account's default group may use the role (confused deputy).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': Aws.ACCOUNT_ID,
            'aws:SourceArn': Arn.format({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack),
          },
        },
      }),
    });
    this.schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.canaryFunction.function.functionArn] }),
    );
    this.schedulerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));

    const schedules = new Map<string, scheduler.Schedule>();
    for (const t of props.targets) {
      schedules.set(
        t.name,
        new scheduler.Schedule(this, `Schedule-${t.name}`, {
          description: `mail-health canary for ${t.name} (${t.host}:${t.port})`,
          schedule: scheduler.ScheduleExpression.expression(props.schedule),
          timeWindow: scheduler.TimeWindow.off(),
          target: new CanaryInvocation({
            functionArn: this.canaryFunction.function.functionArn,
            role: this.schedulerRole,
            input: { target: t.name },
            deadLetterQueue: this.deadLetterQueue,
            maxEventAge,
            retryAttempts,
          }),
        }),
      );
    }
    this.schedules = schedules;
  }
}
