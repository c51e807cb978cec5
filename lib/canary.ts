/**
 * Canary: the canary Lambda and its EventBridge Scheduler schedules. Each schedule's input names
 * its targets, so one function serves every target. Up to MAX_CANARY_SCHEDULES targets each
 * get their own schedule; beyond, targets share schedules (a stable hash of the name picks
 * which), so 500 targets stay far from CloudFormation's 500 resources. Every schedule has a
 * flexible time window of almost its whole period: the scheduler starts each one at its own
 * moment, so hundreds of targets do not open their SMTP sessions in the same second.
 */
import { Arn, ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TargetConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { MailFunction } from './mail-function.ts';
import { grantSecretRead } from './secrets.ts';

/** The canary's environment variable holding the seconds between two scheduled rounds. */
export const ROUND_INTERVAL_ENV = 'ROUND_INTERVAL_SECONDS';

/** SMTP steps after connect that wait for one reply each: greeting, EHLO, STARTTLS, EHLO, AUTH, MAIL, DATA, QUIT. */
const STEPS_BESIDES_RCPT = 8;
/** Headroom for the work around the SMTP session: the secret, the table, the alert topic. */
const HANDLER_OVERHEAD_SECONDS = 20;
const LAMBDA_MAX_SECONDS = 900;

/** The event the scheduler sends the canary Lambda: which targets to check, for which time. */
export interface CanaryScheduleInput {
  /** The `name`s of targets in the config. */
  readonly targets: readonly string[];
  /** The round's nominal time, `<aws.scheduler.scheduled-time>` (it decides the round trip). */
  readonly scheduledTime: string;
}

/** Schedules the canary gets at most: one per target up to here, shared beyond. */
export const MAX_CANARY_SCHEDULES = 250;

/** Distinct SMTP secrets the canary's policy names one by one; more must share a name prefix. */
export const MAX_LISTED_SECRETS = 20;

// FNV-1a: which shared schedule a target belongs to, stable as targets come and go.
function bucketOf(name: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (const ch of name) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % buckets;
}

/**
 * Which schedule checks which targets: one schedule per target (its id the target's name) up to
 * `max` targets; beyond, `max` shared schedules (`group-<n>`), each target in the one its name
 * hashes to, so adding or removing a target moves no other.
 * @example scheduleGroups(['shop', 'clinic']) // [{ id: 'shop', targets: ['shop'] }, { id: 'clinic', targets: ['clinic'] }]
 */
export function scheduleGroups(names: readonly string[], max = MAX_CANARY_SCHEDULES): { readonly id: string; readonly targets: readonly string[] }[] {
  if (names.length <= max) return names.map((n) => ({ id: n, targets: [n] }));
  const groups = new Map<number, string[]>();
  for (const n of names) {
    const k = bucketOf(n, max);
    groups.set(k, [...(groups.get(k) ?? []), n]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([k, targets]) => ({ id: `group-${k}`, targets }));
}

/**
 * The flexible time window of the canary schedules: the scheduler starts each schedule's round
 * somewhere in the minute-granular window after its nominal time, which spreads the rounds of
 * many targets. One minute shorter than the interval (a round still comes once per period);
 * none for a one-minute interval.
 */
export function flexibleWindow(interval: Duration): Duration | undefined {
  const minutes = Math.min(Math.floor(interval.toSeconds() / 60) - 1, 1440);
  return minutes >= 1 ? Duration.minutes(minutes) : undefined;
}

/**
 * What the canary's policy names for the targets' SMTP secrets: each secret, or, when more than
 * MAX_LISTED_SECRETS are named (an IAM policy holds 10 KB), their common name prefix up to a
 * `/`. Throws a ConfigError when so many secrets share no such prefix.
 */
export function secretGrants(targets: readonly TargetConfig[]): { readonly names: readonly string[]; readonly prefix?: string } {
  const names = [...new Set(targets.flatMap((t) => (t.auth?.secretName ? [t.auth.secretName] : [])))];
  if (names.length <= MAX_LISTED_SECRETS) return { names };
  let common = names[0]!;
  for (const n of names) while (!n.startsWith(common)) common = common.slice(0, -1);
  const prefix = common.slice(0, common.lastIndexOf('/') + 1);
  if (prefix === '') {
    throw new ConfigError(
      `targets: ${names.length} different auth.secretName values are more than the ${MAX_LISTED_SECRETS} an IAM policy can list; give them a common prefix ending in / (e.g. mail-health/<target>) or share one JSON secret with auth.secretKey`,
      'targets',
    );
  }
  return { names: [], prefix };
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
  /** The targets to check (config `targets`). */
  readonly targets: readonly TargetConfig[];
  /** The schedule expression of every target: `rate(...)` or `cron(...)` (config `schedule`). */
  readonly schedule: string;
  /** The normal gap between two rounds: the flexible window, the round trip, the retries' bounds. */
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
 * A scheduler target invoking a function with a role that may invoke exactly that function
 * (the stock LambdaInvoke target also grants every version and alias, `:*`).
 */
export class FunctionInvocation implements scheduler.IScheduleTarget {
  constructor(
    private readonly props: {
      readonly functionArn: string;
      readonly role: iam.IRole;
      readonly input: Readonly<Record<string, unknown>>;
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
  /** The schedules, keyed by their id (the target's name, or `group-<n>` when targets share). */
  readonly schedules: ReadonlyMap<string, scheduler.Schedule>;
  /** The flexible time window of every schedule (none for a one-minute interval). */
  readonly window: Duration | undefined;
  /** The name prefix the canary may read secrets under, when the targets name too many to list. */
  readonly secretPrefix?: string;
  /** The role EventBridge Scheduler assumes to invoke the canary (and the sweeper). */
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

    this.window = flexibleWindow(props.interval);
    this.canaryFunction = new MailFunction(this, 'CanaryFunction', {
      entry: 'functions/canary/index.ts',
      description: 'mail-health: canary rounds (port probe, SMTP session, canary mail) for the targets named in the event',
      timeout: canaryTimeout(props.targets),
      memorySize: props.memorySize ?? 256,
      environment: { ...props.environment, [ROUND_INTERVAL_ENV]: String(props.interval.toSeconds()) },
      logRetention: props.logRetention,
      // A retried round would send a second canary mail; the next scheduled round retries anyway.
      retryAttempts: 0,
      maxEventAge: Duration.seconds(Math.min(maxEventAge.toSeconds(), 6 * 3600)),
      extraFiles,
    });

    // Exactly the secrets the targets name (by name or ARN), nothing wider (or their common prefix, for many).
    const grants = secretGrants(props.targets);
    if (grants.prefix !== undefined) this.secretPrefix = grants.prefix;
    grantSecretRead(this.canaryFunction.role, grants.names, this, grants.prefix);

    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const stack = Stack.of(this);
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to invoke the mail-health canary and sweeper',
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
    const byName = new Map(props.targets.map((t) => [t.name, t]));
    for (const group of scheduleGroups(props.targets.map((t) => t.name))) {
      const only = group.targets.length === 1 ? byName.get(group.targets[0]!) : undefined;
      schedules.set(
        group.id,
        new scheduler.Schedule(this, `Schedule-${group.id}`, {
          description: only ? `mail-health canary for ${only.name} (${only.host}:${only.port})` : `mail-health canary for ${group.targets.length} targets`,
          schedule: scheduler.ScheduleExpression.expression(props.schedule),
          timeWindow: this.window ? scheduler.TimeWindow.flexible(this.window) : scheduler.TimeWindow.off(),
          target: new FunctionInvocation({
            functionArn: this.canaryFunction.function.functionArn,
            role: this.schedulerRole,
            input: { targets: group.targets, scheduledTime: scheduler.ContextAttribute.scheduledTime } satisfies CanaryScheduleInput,
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
