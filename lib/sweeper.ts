/**
 * Sweeper: the dead-man of the deployment. A function of its own on a schedule of its own reads
 * every target's latest round from the table and raises one incident when targets stop
 * reporting (functions/sweeper/index.ts). Being apart from the canary, it still fires when the
 * canary Lambda, its schedules or its permissions are broken; its own silence is the
 * sweeper-not-running alarm's (lib/monitoring.ts). One function and one schedule, whatever the
 * number of targets.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FunctionInvocation } from './canary.ts';
import { MailFunction } from './mail-function.ts';

/** The sweeper's environment variable: seconds without a round that make a target silent. */
export const SILENT_AFTER_ENV = 'SILENT_AFTER_SECONDS';

/** Properties of {@link Sweeper}. */
export interface SweeperProps {
  /** How often it sweeps. */
  readonly interval: Duration;
  /** No round for this long makes a target silent. */
  readonly silentAfter: Duration;
  /** Environment shared by the publishing handlers (the stack's contract). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Files copied into the bundle (the deployed config), keyed by their path in it.
   * @default none
   */
  readonly extraFiles?: Readonly<Record<string, string>>;
  /** The role the scheduler assumes; it is allowed to invoke the sweeper. */
  readonly schedulerRole: iam.IRole;
  /** Where the scheduler puts invocations it could not deliver. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * Log retention of the sweeper function.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The sweeper Lambda and its schedule. */
export class Sweeper extends Construct {
  /** The sweeper Lambda. */
  readonly sweeperFunction: MailFunction;
  /** Its schedule. */
  readonly schedule: scheduler.Schedule;
  /** How often it runs. */
  readonly interval: Duration;

  constructor(scope: Construct, id: string, props: SweeperProps) {
    super(scope, id);
    const minutes = props.interval.toMinutes({ integral: false });
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 480) {
      throw new Error(`Sweeper: interval ${props.interval.toSeconds()} s must be whole minutes from 1 to 480`);
    }
    if (props.silentAfter.toSeconds() < 2 * props.interval.toSeconds()) {
      throw new Error('Sweeper: silentAfter must be at least two sweeps long, or a late sweep would see silence that is not there');
    }
    this.interval = props.interval;
    this.sweeperFunction = new MailFunction(this, 'SweeperFunction', {
      entry: 'functions/sweeper/index.ts',
      description: 'mail-health: the dead-man; raises one incident when targets stop reporting',
      timeout: Duration.seconds(60),
      memorySize: 128,
      environment: { ...props.environment, [SILENT_AFTER_ENV]: String(props.silentAfter.toSeconds()) },
      extraFiles: props.extraFiles,
      logRetention: props.logRetention,
      // The next sweep comes soon and sees the same; a retry would only run two at once.
      retryAttempts: 0,
      maxEventAge: Duration.seconds(Math.max(60, props.interval.toSeconds())),
    });
    props.schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.sweeperFunction.function.functionArn] }),
    );
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'mail-health sweeper: notices targets whose canary stopped reporting',
      schedule: scheduler.ScheduleExpression.rate(props.interval),
      timeWindow: scheduler.TimeWindow.off(),
      target: new FunctionInvocation({
        functionArn: this.sweeperFunction.function.functionArn,
        role: props.schedulerRole,
        input: { scheduledTime: scheduler.ContextAttribute.scheduledTime },
        deadLetterQueue: props.deadLetterQueue,
        maxEventAge: Duration.seconds(Math.max(60, props.interval.toSeconds())),
        retryAttempts: 2,
      }),
    });
  }
}
