/**
 * Monitoring: the CloudWatch dashboard and the alarms.
 *
 * One voice per incident: the health state machine alerts when a target fails and recovers,
 * and the dead-man sweeper when targets stop reporting; no alarm watches a target. The alarms
 * watch what neither can see: a Lambda failing, the sweeper itself not running, a spike of
 * bounces. Their number and the dashboard's widgets do not grow with the targets: per-target
 * views come from one SEARCH or Metrics Insights expression, or from Logs Insights over the
 * round log lines, so 500 targets cost the dashboard nothing more than one.
 *
 * The alarms watch the alert Lambda too, so they do not rely on it alone: besides the alert
 * topic they notify a topic of their own whose only subscribers are email addresses (SNS
 * sends CloudWatch's own alarm text, no Lambda, no Slack secret, no SES identity in between).
 */
import { Annotations, Arn, ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { AUTH_CODES, SMTP_STEPS } from '#core/findings.ts';
import { ROUND_LOG_MESSAGE } from '../functions/lambda/observe.ts';
import { DELIVERED_CANARIES_QUERY } from './dashboard-queries.ts';
import { dmarcReportWidgets } from './dmarc-widgets.ts';
import { METRICS_NAMESPACE } from './mail-function.ts';

/** Bounce reasons that are not failures: delivery reports, auto-replies, feedback loops. */
const NOT_A_FAILURE = ['delivered', 'vacation', 'feedback'] as const;
/** How many targets the dashboard's worst-target lists show. */
const WORST_LISTED = 20;
/** Periods of two sweep intervals without an invocation, in a row, before the sweeper alarm fires. */
const SWEEPER_ALARM_PERIODS = 2;
/** The sweeper's log line per sweep (functions/sweeper/index.ts `SWEEP_LOG_MESSAGE`). */
const SWEEP_LOG_MESSAGE = 'sweep';
/** The bounce Lambda's log line for a canary that arrived (functions/lambda/intake.ts). */
const DELIVERED_LOG_MESSAGE = 'canary delivered';
/**
 * The most metrics one graph draws, SEARCH results included; beyond it CloudWatch draws a
 * subset without saying which. A Metrics Insights query returns at most as many series too.
 */
const GRAPH_METRICS_MAX = 500;
/**
 * SEARCH also finds the metrics of targets removed or renamed within the last two weeks, so the
 * per-target graph uses it only while the configured targets leave this much room under the cap.
 */
const SEARCH_HEADROOM = 100;

/**
 * Grid units a text widget needs for its markdown at `width` columns, estimated for a dashboard
 * on a 1280-pixel screen with the console's navigation open: about 4 characters a column on a
 * line (96 at full width), two lines of text a unit, a heading a unit, and half a unit of margin.
 */
function textWidgetHeight(markdown: string, width: number): number {
  const perLine = 4 * width;
  let units = 0.5;
  for (const block of markdown.split(/\n\s*\n/)) {
    if (/^#{1,6} /.test(block)) units += 1;
    else units += block.split('\n').reduce((lines, line) => lines + Math.max(1, Math.ceil(line.length / perLine)), 0) / 2;
  }
  return Math.ceil(units);
}

/** Properties of {@link Monitoring}. */
export interface MonitoringProps {
  /** How many targets the stack checks (shown in the dashboard's header). */
  readonly targetCount: number;
  /** The normal gap between two rounds of a target. */
  readonly interval: Duration;
  /** How often a target's round sends the canary message (config `roundTripSchedule`). */
  readonly roundTripInterval: Duration;
  /** Where every alarm is notified (the alert topic: the alert Lambda posts alarms like alerts). */
  readonly alarmTopic: sns.ITopic;
  /**
   * The alarms' second path, which does not go through the alert Lambda: a topic of their own
   * with these addresses subscribed by email, encrypted with `key` (CloudWatch must be allowed
   * to use it).
   * @default none: the alarms reach only `alarmTopic` (a synth warning says so)
   */
  readonly alarmEmail?: { readonly to: readonly string[]; readonly key: kms.IKey };
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
  /** The alarms' own topic, emailed directly (undefined without `alarmEmail` addresses). */
  readonly alarmEmailTopic?: sns.Topic;

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
    if (sweepSeconds < 60 || sweepSeconds % 60 !== 0 || SWEEPER_ALARM_PERIODS * 2 * sweepSeconds > 86_400) {
      throw new Error(`Monitoring: the sweeper's interval ${sweepSeconds} s must be whole minutes, ${2 * SWEEPER_ALARM_PERIODS} of them within a day (an alarm's evaluation range)`);
    }
    if (!(spikeThreshold >= 1)) throw new Error(`Monitoring: bounceSpikeThreshold ${spikeThreshold} must be at least 1`);
    if (spikePeriod.toSeconds() < 60 || spikePeriod.toSeconds() % 60 !== 0 || spikePeriod.toSeconds() > 3 * 3600) {
      throw new Error('Monitoring: bounceSpikePeriod must be whole minutes up to 3 hours (Metrics Insights queries see the last 3 hours)');
    }

    this.alarmEmailTopic = this.emailTopic(props.alarmEmail);
    const notify = [props.alarmTopic, ...(this.alarmEmailTopic ? [this.alarmEmailTopic] : [])].map((t) => new actions.SnsAction(t));
    const all: cloudwatch.Alarm[] = [];

    // The dead-man's dead-man: a schedule that stopped, or a scheduler that cannot invoke the
    // sweeper, leaves no invocation at all, which is exactly what this alarm counts. A period of
    // two intervals always holds an invocation while the schedule runs, whatever the phase of
    // the schedule against the period and deliveries late by up to half an interval (a period
    // of one interval can count 0, 2, 0); two empty periods in a row take three or more
    // invocations lost in a row.
    const sweepPeriod = Duration.seconds(2 * sweepSeconds);
    this.sweeperNotRunning = new cloudwatch.Alarm(this, 'SweeperNotRunning', {
      alarmName: `${prefix}-sweeper-not-running`,
      alarmDescription: `The mail-health sweeper, which notices targets that stop reporting, runs every ${sweepSeconds / 60} min and was not invoked at all in the last ${SWEEPER_ALARM_PERIODS} periods of ${sweepPeriod.toMinutes()} min: its EventBridge Scheduler schedule is disabled or broken, so a broken canary would go unnoticed too. Check the schedules of the stack and the scheduler role.`,
      metric: props.sweeper.function.metricInvocations({ period: sweepPeriod, statistic: 'Sum' }),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: SWEEPER_ALARM_PERIODS,
      datapointsToAlarm: SWEEPER_ALARM_PERIODS,
      // No invocation at all publishes no datapoint: that is the case this alarm exists for.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.sweeperNotRunning.addAlarmAction(...notify);
    this.sweeperNotRunning.addOkAction(...notify);
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
    this.bounceSpike.addAlarmAction(...notify);
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
      alarm.addAlarmAction(...notify);
      errors.set(label, alarm);
      all.push(alarm);
    }
    this.errors = errors;

    const watched = props.throttleWatched ?? [];
    if (watched.length > 0) {
      // One alarm over the sum: which function was throttled is on the Lambda console, and an
      // alarm per function would cost as much for the same message. Each term is filled with 0:
      // `t0 + t1` has no value where only one function has a datapoint, and missing data does
      // not breach, so a throttle of one function alone would go unseen.
      const usingMetrics = Object.fromEntries(watched.map((fn, i) => [`t${i}`, fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' })]));
      const sum = Object.keys(usingMetrics)
        .map((id) => `FILL(${id}, 0)`)
        .join(' + ');
      this.throttles = new cloudwatch.Alarm(this, 'Throttles', {
        alarmName: `${prefix}-throttles`,
        alarmDescription:
          "A mail-health Lambda that handles bounces or delivers alerts was throttled: the account's concurrency is exhausted, so bounces or alerts are delayed (Lambda retries them for up to 6 hours). Raise the account's concurrency or find the function using it.",
        metric: new cloudwatch.MathExpression({ expression: sum, usingMetrics, period: Duration.minutes(5), label: 'Throttles' }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.throttles.addAlarmAction(...notify);
      all.push(this.throttles);
    }
    this.alarms = all;
    this.dashboard = this.buildDashboard(props, all);
  }

  /** The alarms' own topic with its email subscriptions, or a synth warning when there are none. */
  private emailTopic(email: MonitoringProps['alarmEmail']): sns.Topic | undefined {
    if (!email || email.to.length === 0) {
      Annotations.of(this).addWarningV2(
        'mail-health:alarms-without-email',
        'no alerts.alarmEmails and no alerts.email.to: the alarms reach only the alert Lambda, so an alert Lambda failing on every channel would tell nobody',
      );
      return undefined;
    }
    const topic = new sns.Topic(this, 'AlarmEmailTopic', {
      displayName: 'mail-health alarms',
      masterKey: email.key,
      enforceSSL: true,
    });
    // Once a topic has a policy, same-account CloudWatch alarms need an explicit grant.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': Arn.format({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }, Stack.of(this)),
          },
        },
      }),
    );
    for (const address of email.to) topic.addSubscription(new subscriptions.EmailSubscription(address));
    return topic;
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

    const header = [
      `# mail-health: ${props.targetCount} target${props.targetCount === 1 ? '' : 's'}`,
      `A round per target every ${minutes} min checks the submission server; every ${props.roundTripInterval.toMinutes()} min a round also sends the canary message (the round trip). ` +
        'The health state machine alerts when a target fails and recovers, the sweeper when targets stop reporting; the alarms watch the Lambdas and the bounces.',
    ].join('\n\n');
    dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: header, width: 24, height: textWidgetHeight(header, 24) }));
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
        ...this.successPerTarget(props.targetCount, props.interval),
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
      logTable('Delivered canaries: SPF, DKIM, DMARC as SES saw them', props.findingsLogGroups, [...DELIVERED_CANARIES_QUERY], 12),
    );
    // DMARC aggregate and TLS reports (issue 25): lib/dmarc-widgets.ts.
    dashboard.addWidgets(...dmarcReportWidgets(props.bounceLogGroup));
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

  /**
   * The per-target success graph: one SEARCH over every target while they fit a graph with room
   * for removed ones; beyond, the worst targets by Metrics Insights (which sees recent hours
   * only), as many as a graph holds, and the title says so.
   */
  private successPerTarget(targetCount: number, interval: Duration): { title: string; left: cloudwatch.IMetric[] } {
    if (targetCount <= GRAPH_METRICS_MAX - SEARCH_HEADROOM) {
      return {
        title: 'Canary success per target',
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},Target,service} MetricName="CanarySuccess"', 'Average', ${interval.toSeconds()})`,
            usingMetrics: {},
            label: '',
            period: interval,
          }),
        ],
      };
    }
    return {
      title:
        targetCount > GRAPH_METRICS_MAX
          ? `Canary success: the worst ${GRAPH_METRICS_MAX} of ${targetCount} targets (a graph holds ${GRAPH_METRICS_MAX}; last 3 hours)`
          : 'Canary success per target (last 3 hours)',
      left: [
        new cloudwatch.MathExpression({
          expression: `SELECT AVG(CanarySuccess) FROM SCHEMA("${METRICS_NAMESPACE}", Target, service) GROUP BY Target ORDER BY AVG() ASC LIMIT ${GRAPH_METRICS_MAX}`,
          usingMetrics: {},
          label: '',
          period: interval,
        }),
      ],
    };
  }
}
