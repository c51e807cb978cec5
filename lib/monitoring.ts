/**
 * Monitoring: the CloudWatch dashboard and the alarms.
 *
 * One voice per incident: the health state machine alerts when a target fails and recovers,
 * and the dead-man sweeper when targets stop reporting; no alarm watches a target. The alarms
 * watch what neither can see: a Lambda failing, the sweeper itself not running, a spike of
 * bounces. Their number and the dashboard's widgets do not grow with the targets: per-target
 * views come from one SEARCH or Metrics Insights expression, or from Logs Insights over the
 * round log lines, so 500 targets cost the dashboard nothing more than one.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AUTH_CODES, SMTP_STEPS } from '#core/findings.ts';
import { PLACEMENT_LOG_MESSAGE } from '../functions/lambda/placement.ts';
import { ROUND_LOG_MESSAGE } from '../functions/lambda/observe.ts';
import { METRICS_NAMESPACE } from './mail-function.ts';

/** Bounce reasons that are not failures: delivery reports, auto-replies, feedback loops. */
const NOT_A_FAILURE = ['delivered', 'vacation', 'feedback'] as const;
/** How many targets the dashboard's worst-target lists show. */
const WORST_LISTED = 20;
/** The sweeper's log line per sweep (functions/sweeper/index.ts `SWEEP_LOG_MESSAGE`). */
const SWEEP_LOG_MESSAGE = 'sweep';
/** The bounce Lambda's log line for a canary that arrived (functions/lambda/intake.ts). */
const DELIVERED_LOG_MESSAGE = 'canary delivered';

/** Properties of {@link Monitoring}. */
export interface MonitoringProps {
  /** How many targets the stack checks (shown in the dashboard's header). */
  readonly targetCount: number;
  /** The normal gap between two rounds of a target. */
  readonly interval: Duration;
  /** How often a target's round sends the canary message (config `roundTripSchedule`). */
  readonly roundTripInterval: Duration;
  /** Where every alarm is notified. */
  readonly alarmTopic: sns.ITopic;
  /** The functions whose errors alarm, keyed by a short label. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /**
   * The functions whose throttling one alarm watches: those whose lost or late invocations
   * nothing else notices (a throttled canary or sweeper shows as silence, which the sweeper or
   * the sweeper-not-running alarm reports).
   * @default none: no throttles alarm
   */
  readonly throttleWatched?: readonly lambda.IFunction[];
  /** The dead-man sweeper and how often it runs: the sweeper-not-running alarm watches it. */
  readonly sweeper: { readonly function: lambda.IFunction; readonly interval: Duration; readonly logGroup: logs.ILogGroup };
  /** Log groups whose structured `finding` lines feed the latest-findings table. */
  readonly findingsLogGroups: readonly logs.ILogGroup[];
  /**
   * The canary function's log group: its one `canary round` line per round carries the per-step
   * timings, the session time and the certificate's days left. Logs instead of metrics: each
   * distinct metric is billed per target, a log field is not.
   */
  readonly canaryLogGroup: logs.ILogGroup;
  /** The bounce function's log group: the round trip of each canary that arrived. */
  readonly bounceLogGroup: logs.ILogGroup;
  /**
   * Inbox placement (config `seeds`): the canary function logs one `placement` line per canary
   * and seed decided; the dashboard gets a Logs Insights table of the latest per target and seed.
   * @default false: no seeds, no table
   */
  readonly placement?: boolean;
  /**
   * Failure bounces within `bounceSpikePeriod` that make a spike.
   * @default 5
   */
  readonly bounceSpikeThreshold?: number;
  /**
   * The window bounces are counted over.
   * @default Duration.hours(1)
   */
  readonly bounceSpikePeriod?: Duration;
  /**
   * Name of the dashboard.
   * @default the stack name
   */
  readonly dashboardName?: string;
}

/** The mail-health dashboard and alarms. */
export class Monitoring extends Construct {
  /** The dashboard. */
  readonly dashboard: cloudwatch.Dashboard;
  /** The sweeper did not run (its schedule or the scheduler is broken): nothing would notice silent targets. */
  readonly sweeperNotRunning: cloudwatch.Alarm;
  /** Failure bounces (all reasons together) above the spike threshold. */
  readonly bounceSpike: cloudwatch.Alarm;
  /** Per function label: the function failed. */
  readonly errors: ReadonlyMap<string, cloudwatch.Alarm>;
  /** One of the throttle-watched functions was throttled (undefined when none is watched). */
  readonly throttles?: cloudwatch.Alarm;
  /** Every alarm of the construct. */
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const interval = props.interval;
    const spikeThreshold = props.bounceSpikeThreshold ?? 5;
    const spikePeriod = props.bounceSpikePeriod ?? Duration.hours(1);
    const sweepSeconds = props.sweeper.interval.toSeconds();
    const prefix = Stack.of(this).stackName;

    if (props.targetCount < 1) throw new Error('Monitoring: targetCount must be at least 1');
    if (interval.toSeconds() < 60 || interval.toSeconds() % 60 !== 0 || interval.toSeconds() > 86_400) {
      throw new Error(`Monitoring: interval ${interval.toSeconds()} s must be whole minutes from 1 minute to 1 day`);
    }
    if (sweepSeconds < 60 || sweepSeconds % 60 !== 0 || sweepSeconds * 3 > 86_400) {
      throw new Error(`Monitoring: the sweeper's interval ${sweepSeconds} s must be whole minutes, three of them within a day (an alarm period)`);
    }
    if (!(spikeThreshold >= 1)) throw new Error(`Monitoring: bounceSpikeThreshold ${spikeThreshold} must be at least 1`);
    if (spikePeriod.toSeconds() < 60 || spikePeriod.toSeconds() % 60 !== 0 || spikePeriod.toSeconds() > 3 * 3600) {
      throw new Error('Monitoring: bounceSpikePeriod must be whole minutes up to 3 hours (Metrics Insights queries see the last 3 hours)');
    }

    const notify = new actions.SnsAction(props.alarmTopic);
    const all: cloudwatch.Alarm[] = [];

    // The dead-man's dead-man: a schedule that stopped, or a scheduler that cannot invoke the
    // sweeper, leaves no invocation at all, which is exactly what this alarm counts.
    this.sweeperNotRunning = new cloudwatch.Alarm(this, 'SweeperNotRunning', {
      alarmName: `${prefix}-sweeper-not-running`,
      alarmDescription: `The mail-health sweeper, which notices targets that stop reporting, was not invoked in 2 of the last 3 periods of ${sweepSeconds / 60} min: its EventBridge Scheduler schedule is disabled or broken, so a broken canary would go unnoticed too. Check the schedules of the stack and the scheduler role.`,
      metric: props.sweeper.function.metricInvocations({ period: props.sweeper.interval, statistic: 'Sum' }),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      // No invocation at all publishes no datapoint: that is the case this alarm exists for.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.sweeperNotRunning.addAlarmAction(notify);
    this.sweeperNotRunning.addOkAction(notify);
    all.push(this.sweeperNotRunning);

    // One Metrics Insights query over every reason keeps this a single alarm however many
    // reasons occur; the dashboard and the bounce alerts name the reason.
    const reasonFilter = NOT_A_FAILURE.map((r) => `Reason != '${r}'`).join(' AND ');
    this.bounceSpike = new cloudwatch.Alarm(this, 'BounceSpike', {
      alarmName: `${prefix}-bounce-spike`,
      alarmDescription: `At least ${spikeThreshold} failure bounces (any reason except ${NOT_A_FAILURE.join(', ')}) within ${spikePeriod.toMinutes()} min. See "Bounces by reason" on the dashboard.`,
      metric: new cloudwatch.MathExpression({
        expression: `SELECT SUM(Bounces) FROM SCHEMA("${METRICS_NAMESPACE}", Reason, service) WHERE ${reasonFilter}`,
        usingMetrics: {},
        period: spikePeriod,
        label: 'Failure bounces',
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: spikeThreshold,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.bounceSpike.addAlarmAction(notify);
    all.push(this.bounceSpike);

    const errors = new Map<string, cloudwatch.Alarm>();
    for (const [label, fn] of Object.entries(props.functions)) {
      const alarm = new cloudwatch.Alarm(this, `Errors-${label}`, {
        alarmName: `${prefix}-${label}-errors`,
        alarmDescription: `The mail-health ${label} Lambda failed (an exception, timeout or out of memory). Its log group has the stack trace.`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      errors.set(label, alarm);
      all.push(alarm);
    }
    this.errors = errors;

    const watched = props.throttleWatched ?? [];
    if (watched.length > 0) {
      // One alarm over the sum: which function was throttled is on the Lambda console, and an
      // alarm per function would cost as much for the same message.
      const usingMetrics = Object.fromEntries(watched.map((fn, i) => [`t${i}`, fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' })]));
      this.throttles = new cloudwatch.Alarm(this, 'Throttles', {
        alarmName: `${prefix}-throttles`,
        alarmDescription:
          "A mail-health Lambda that handles bounces or delivers alerts was throttled: the account's concurrency is exhausted, so bounces or alerts are delayed (Lambda retries them for up to 6 hours). Raise the account's concurrency or find the function using it.",
        metric: new cloudwatch.MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, period: Duration.minutes(5) }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.throttles.addAlarmAction(notify);
      all.push(this.throttles);
    }
    this.alarms = all;
    this.dashboard = this.buildDashboard(props, all);
  }

  private buildDashboard(props: MonitoringProps, alarms: readonly cloudwatch.Alarm[]): cloudwatch.Dashboard {
    const minutes = props.interval.toMinutes();
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? Stack.of(this).stackName,
      defaultInterval: Duration.days(1),
    });
    const roundLines = `filter message = '${ROUND_LOG_MESSAGE}'`;
    const targetSchema = `SCHEMA("${METRICS_NAMESPACE}", Target, service)`;
    const logTable = (title: string, groups: readonly logs.ILogGroup[], queryLines: string[], width = 8) =>
      new cloudwatch.LogQueryWidget({ title, logGroupNames: groups.map((g) => g.logGroupName), view: cloudwatch.LogQueryVisualizationType.TABLE, queryLines, width, height: 6 });

    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: [
          `# mail-health: ${props.targetCount} target${props.targetCount === 1 ? '' : 's'}`,
          `A round per target every ${minutes} min checks the submission server; every ${props.roundTripInterval.toMinutes()} min a round also sends the canary message (the round trip). ` +
            'The health state machine alerts when a target fails and recovers, the sweeper when targets stop reporting; the alarms watch the Lambdas and the bounces.',
        ].join('\n\n'),
        width: 24,
        height: 2,
      }),
    );
    // The fleet at a glance.
    dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Targets by state (sweeper)',
        logGroupNames: [props.sweeper.logGroup.logGroupName],
        view: cloudwatch.LogQueryVisualizationType.LINE,
        queryLines: [`filter message = '${SWEEP_LOG_MESSAGE}'`, `stats max(failing) as failing, max(warning) as warning, max(silentCount) as notReporting, max(unseen) as neverReported by bin(${props.sweeper.interval.toMinutes()}m)`],
        width: 8,
        height: 6,
      }),
      logTable('Failing now (latest round critical)', [props.canaryLogGroup], [
        roundLines,
        'stats latest(status) as last, latest(findings.0) as finding, latest(@timestamp) as at by target',
        "filter last = 'critical' or last = 'unknown'",
        'sort at desc',
        'limit 100',
      ]),
      new cloudwatch.GraphWidget({
        title: `Worst ${WORST_LISTED} targets: canary success`,
        left: [
          new cloudwatch.MathExpression({
            expression: `SELECT AVG(CanarySuccess) FROM ${targetSchema} GROUP BY Target ORDER BY AVG() ASC LIMIT ${WORST_LISTED}`,
            usingMetrics: {},
            label: '',
            period: props.interval,
          }),
        ],
        leftYAxis: { min: 0, max: 1, showUnits: false },
        width: 8,
        height: 6,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Canary success per target',
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},Target,service} MetricName="CanarySuccess"', 'Average', ${props.interval.toSeconds()})`,
            usingMetrics: {},
            label: '',
            period: props.interval,
          }),
        ],
        leftYAxis: { min: 0, max: 1, showUnits: false },
        width: 16,
        height: 6,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...alarms], width: 8, height: 6 }),
    );
    const stepColumns = SMTP_STEPS.map((step) => `avg(stepMs.${step}) as ${step}`).join(', ');
    dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'SMTP step latency, all targets (ms)',
        logGroupNames: [props.canaryLogGroup.logGroupName],
        view: cloudwatch.LogQueryVisualizationType.STACKEDAREA,
        queryLines: [roundLines, `stats ${stepColumns} by bin(${minutes}m)`],
        width: 12,
        height: 6,
      }),
      logTable(`Slowest ${WORST_LISTED} targets: SMTP session (ms)`, [props.canaryLogGroup], [
        roundLines,
        'stats avg(sessionMs) as avgMs, max(sessionMs) as maxMs, count(*) as rounds by target',
        'sort avgMs desc',
        `limit ${WORST_LISTED}`,
      ], 12),
    );
    dashboard.addWidgets(
      logTable('TLS certificates expiring first (days left)', [props.canaryLogGroup], [
        `${roundLines} and ispresent(tls.certDaysLeft)`,
        'stats min(tls.certDaysLeft) as daysLeft by target',
        'sort daysLeft asc',
        `limit ${WORST_LISTED}`,
      ]),
      new cloudwatch.GraphWidget({
        title: 'Bounces by reason',
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},Reason,service} MetricName="Bounces"', 'Sum', 3600)`,
            usingMetrics: {},
            label: '',
            period: Duration.hours(1),
          }),
        ],
        stacked: true,
        width: 8,
        height: 6,
      }),
      logTable('Slowest round trips (s)', [props.bounceLogGroup], [
        `filter message = '${DELIVERED_LOG_MESSAGE}' and ispresent(roundTripSeconds)`,
        'stats avg(roundTripSeconds) as avgSeconds, max(roundTripSeconds) as maxSeconds, count(*) as arrived by target',
        'sort maxSeconds desc',
        `limit ${WORST_LISTED}`,
      ]),
    );
    // Mail authentication (issue 16): the findings that say Gmail and Yahoo would refuse or junk
    // the mail, per target, and what SES concluded about each delivered canary. From the finding
    // log lines, not a metric: a metric per target and code would be billed every month.
    const authCodes = AUTH_CODES.map((c) => `'${c}'`).join(', ');
    dashboard.addWidgets(
      logTable('Mail authentication findings by target (SPF, DKIM, DMARC, reverse DNS, blocklists)', props.findingsLogGroups, [
        `filter finding.code in [${authCodes}]`,
        'stats count(*) as rounds, latest(@timestamp) as last by target, finding.code',
        'sort last desc',
        'limit 100',
      ], 12),
      logTable('Delivered canaries: SPF, DKIM, DMARC as SES saw them', props.findingsLogGroups, [
        "filter message = 'canary authentication'",
        'fields @timestamp, target, spf, dmarc, canaryId',
        'sort @timestamp desc',
        'limit 20',
      ], 12),
    );
    if (props.placement) {
      // Inbox placement (issue 23): where the latest canary of each target landed at each seed.
      dashboard.addWidgets(
        logTable('Inbox placement: latest verdict per target and seed', [props.canaryLogGroup], [
          `filter message = '${PLACEMENT_LOG_MESSAGE}'`,
          'stats latest(verdict) as verdict, latest(folder) as folder, latest(seconds) as seconds, latest(dmarc) as dmarc, latest(@timestamp) as at by target, seed',
          'sort verdict desc, at desc',
          'limit 100',
        ], 24),
      );
    }
    dashboard.addWidgets(
      logTable('Latest findings', props.findingsLogGroups, [
        'fields @timestamp, target, finding.code, finding.severity, message',
        'filter ispresent(finding.code)',
        'sort @timestamp desc',
        'limit 50',
      ], 24),
    );
    return dashboard;
  }
}
