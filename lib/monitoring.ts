/**
 * Monitoring: the CloudWatch dashboard and the alarms. Every alarm notifies the alert topic,
 * where the alert Lambda formats it like any other alert.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AUTH_CODES, SMTP_STEPS } from '#core/findings.ts';
import { ROUND_LOG_MESSAGE, SESSION_STEP } from '../functions/lambda/observe.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from './mail-function.ts';

/** Bounce reasons that are not failures: delivery reports, auto-replies, feedback loops. */
const NOT_A_FAILURE = ['delivered', 'vacation', 'feedback'] as const;
/** Below this many days left the TLS certificate graph shows its warning line. */
const CERT_WARNING_DAYS = 14;

/** Properties of {@link Monitoring}. */
export interface MonitoringProps {
  /** The target names (the `Target` dimension). */
  readonly targets: readonly string[];
  /** The longest normal gap between two canary rounds; the canary alarms' period. */
  readonly interval: Duration;
  /** Where every alarm (and the canary alarms' recovery) is notified. */
  readonly alarmTopic: sns.ITopic;
  /** The functions to watch for errors and throttles, keyed by a short label. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Log groups whose structured `finding` lines feed the latest-findings table. */
  readonly findingsLogGroups: readonly logs.ILogGroup[];
  /**
   * The canary function's log group: its one `canary round` line per round carries the per-step
   * timings (`stepMs.<step>`) the step latency charts read. Logs instead of a metric per step:
   * each distinct metric is billed, a log field is not.
   */
  readonly canaryLogGroup: logs.ILogGroup;
  /**
   * Consecutive failed periods before the canary-failing alarm fires (config `alerts.failureThreshold`).
   * @default 2
   */
  readonly failureThreshold?: number;
  /**
   * Silent periods (out of three) before the not-reporting alarm fires.
   * @default 2
   */
  readonly silentPeriods?: number;
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
  /** Per target: the canary reported failures for `failureThreshold` periods in a row. */
  readonly canaryFailing: ReadonlyMap<string, cloudwatch.Alarm>;
  /** Per target: no canary result arrived (missing data breaches). */
  readonly canaryNotReporting: ReadonlyMap<string, cloudwatch.Alarm>;
  /** Failure bounces (all reasons together) above the spike threshold. */
  readonly bounceSpike: cloudwatch.Alarm;
  /** Every alarm of the construct. */
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const interval = props.interval;
    const failureThreshold = props.failureThreshold ?? 2;
    const silentPeriods = props.silentPeriods ?? 2;
    const spikeThreshold = props.bounceSpikeThreshold ?? 5;
    const spikePeriod = props.bounceSpikePeriod ?? Duration.hours(1);
    const prefix = Stack.of(this).stackName;

    if (props.targets.length === 0) throw new Error('Monitoring: targets must not be empty');
    if (interval.toSeconds() < 60 || interval.toSeconds() % 60 !== 0 || interval.toSeconds() > 86_400) {
      throw new Error(`Monitoring: interval ${interval.toSeconds()} s must be whole minutes from 1 minute to 1 day (a CloudWatch alarm period)`);
    }
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1 || failureThreshold * interval.toSeconds() > 7 * 86_400) {
      throw new Error(`Monitoring: failureThreshold ${failureThreshold} × interval must be at least one period and at most 7 days`);
    }
    if (!Number.isInteger(silentPeriods) || silentPeriods < 1 || silentPeriods > 3) {
      throw new Error(`Monitoring: silentPeriods ${silentPeriods} must be 1, 2 or 3`);
    }
    if (!(spikeThreshold >= 1)) throw new Error(`Monitoring: bounceSpikeThreshold ${spikeThreshold} must be at least 1`);
    if (spikePeriod.toSeconds() < 60 || spikePeriod.toSeconds() % 60 !== 0 || spikePeriod.toSeconds() > 3 * 3600) {
      throw new Error('Monitoring: bounceSpikePeriod must be whole minutes up to 3 hours (Metrics Insights queries see the last 3 hours)');
    }

    const notify = new actions.SnsAction(props.alarmTopic);
    // One target's metric as the handlers emit it (Powertools adds the service dimension).
    const targetMetric = (metricName: string, target: string, statistic: string, period: Duration, label?: string, dimensions: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME, Target: target, ...dimensions },
        statistic,
        period,
        label,
      });
    // No label on the alarms' metric: a label turns the alarm into the metric-math form.
    const canaryMetric = (target: string, statistic: string, label?: string) => targetMetric('CanarySuccess', target, statistic, interval, label);

    const failing = new Map<string, cloudwatch.Alarm>();
    const silent = new Map<string, cloudwatch.Alarm>();
    const all: cloudwatch.Alarm[] = [];
    for (const target of props.targets) {
      const f = new cloudwatch.Alarm(this, `CanaryFailing-${target}`, {
        alarmName: `${prefix}-canary-failing-${target}`,
        alarmDescription: `The mail-health canary for ${target} found no successful round in ${failureThreshold} consecutive periods of ${interval.toMinutes()} min. The alert for the failing step names the cause and the fix.`,
        metric: canaryMetric(target, 'Maximum'),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: failureThreshold,
        datapointsToAlarm: failureThreshold,
        // Silence is the not-reporting alarm's job; here it keeps the last state.
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      const s = new cloudwatch.Alarm(this, `CanaryNotReporting-${target}`, {
        alarmName: `${prefix}-canary-not-reporting-${target}`,
        alarmDescription: `No mail-health canary result for ${target} in ${silentPeriods} of the last 3 periods of ${interval.toMinutes()} min: the schedule, the canary Lambda or its permissions are broken, so mail problems would go unseen. Check the canary function's errors and logs.`,
        metric: canaryMetric(target, 'SampleCount'),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: silentPeriods,
        // A broken scheduler or function produces no data at all: that must alarm, not hide.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      for (const alarm of [f, s]) {
        alarm.addAlarmAction(notify);
        alarm.addOkAction(notify);
      }
      failing.set(target, f);
      silent.set(target, s);
      all.push(f, s);
    }

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

    for (const [label, fn] of Object.entries(props.functions)) {
      const errors = new cloudwatch.Alarm(this, `Errors-${label}`, {
        alarmName: `${prefix}-${label}-errors`,
        alarmDescription: `The mail-health ${label} Lambda failed (an exception, timeout or out of memory). Its log group has the stack trace.`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const throttles = new cloudwatch.Alarm(this, `Throttles-${label}`, {
        alarmName: `${prefix}-${label}-throttles`,
        alarmDescription: `The mail-health ${label} Lambda was throttled: the account's concurrency is exhausted, so checks or alerts are delayed or lost.`,
        metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      errors.addAlarmAction(notify);
      throttles.addAlarmAction(notify);
      all.push(errors, throttles);
    }
    this.canaryFailing = failing;
    this.canaryNotReporting = silent;
    this.alarms = all;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? prefix,
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# mail-health\nCanary rounds every ${interval.toMinutes()} min for: ${props.targets.join(', ')}. Alarms notify the alert topic (Slack and email).`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Canary success per target',
        left: props.targets.map((t) => canaryMetric(t, 'Average', t)),
        leftYAxis: { min: 0, max: 1, showUnits: false },
        width: 12,
        height: 6,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: all, width: 12, height: 6 }),
    );
    // Target names are letters, digits, - and _ (config schema), so they quote safely here.
    const stepColumns = SMTP_STEPS.map((step) => `avg(stepMs.${step}) as ${step}`).join(', ');
    this.dashboard.addWidgets(
      ...props.targets.map(
        (t) =>
          new cloudwatch.LogQueryWidget({
            title: `SMTP step latency: ${t} (ms)`,
            logGroupNames: [props.canaryLogGroup.logGroupName],
            view: cloudwatch.LogQueryVisualizationType.STACKEDAREA,
            queryLines: [
              `filter message = '${ROUND_LOG_MESSAGE}' and target = '${t}'`,
              `stats ${stepColumns} by bin(${interval.toMinutes()}m)`,
            ],
            width: 12,
            height: 6,
          }),
      ),
      new cloudwatch.GraphWidget({
        title: 'SMTP session time (ms)',
        left: props.targets.map((t) => targetMetric('StepLatency', t, 'Average', interval, t, { Step: SESSION_STEP })),
        leftYAxis: { min: 0, showUnits: false },
        width: 12,
        height: 6,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'TLS certificate days left',
        left: props.targets.map((t) => targetMetric('TlsCertDaysLeft', t, 'Minimum', Duration.hours(1), t)),
        leftAnnotations: [{ value: CERT_WARNING_DAYS, label: `${CERT_WARNING_DAYS} days`, color: cloudwatch.Color.ORANGE }],
        leftYAxis: { min: 0, showUnits: false },
        width: 8,
        height: 6,
      }),
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
      new cloudwatch.GraphWidget({
        title: 'Canary round trip (s)',
        left: props.targets.map((t) => targetMetric('RoundTripSeconds', t, 'Maximum', interval, t)),
        width: 8,
        height: 6,
      }),
    );
    // Mail authentication (issue 16): the findings that say Gmail and Yahoo would refuse or junk
    // the mail, and what SES concluded about each delivered canary. No new metric: the existing
    // `Findings` count per Code, searched for the authentication codes.
    const authCodes = AUTH_CODES.map((c) => `Code="${c}"`).join(' OR ');
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Mail authentication findings (SPF, DKIM, DMARC, reverse DNS, blocklists)',
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},Code,Target,service} MetricName="Findings" (${authCodes})', 'Sum', 3600)`,
            usingMetrics: {},
            label: '',
            period: Duration.hours(1),
          }),
        ],
        stacked: true,
        width: 12,
        height: 6,
      }),
      new cloudwatch.LogQueryWidget({
        title: 'Delivered canaries: SPF, DKIM, DMARC as SES saw them',
        logGroupNames: props.findingsLogGroups.map((g) => g.logGroupName),
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        queryLines: ["filter message = 'canary authentication'", 'fields @timestamp, target, spf, dmarc, canaryId', 'sort @timestamp desc', 'limit 20'],
        width: 12,
        height: 6,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Latest findings',
        logGroupNames: props.findingsLogGroups.map((g) => g.logGroupName),
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        queryLines: [
          'fields @timestamp, target, finding.code, finding.severity, message',
          'filter ispresent(finding.code)',
          'sort @timestamp desc',
          'limit 50',
        ],
        width: 24,
        height: 8,
      }),
    );
  }
}
