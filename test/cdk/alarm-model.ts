/**
 * How CloudWatch evaluates the alarms, as far as the tests need it: enough to replay a series
 * of datapoints against an alarm of the synthesized template and see when it would fire.
 */

/** The alarm properties the models read (from `AWS::CloudWatch::Alarm` in the template). */
export interface AlarmProperties {
  readonly Period: number;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly ComparisonOperator: string;
  readonly Threshold: number;
  readonly TreatMissingData?: string;
}

/**
 * The times (seconds) at which an alarm on the `Sum` of invocations is in ALARM, checked at the
 * end of each period up to `horizon`: periods are aligned to the clock, a period without an
 * invocation has no datapoint (Lambda publishes none), and at least DatapointsToAlarm of the
 * last EvaluationPeriods breaching puts the alarm in ALARM.
 */
export function alarmFirings(alarm: AlarmProperties, invocations: readonly number[], horizon: number): number[] {
  if (alarm.ComparisonOperator !== 'LessThanThreshold' || alarm.TreatMissingData !== 'breaching') {
    throw new Error(`alarmFirings models a LessThanThreshold alarm with missing data breaching, not ${alarm.ComparisonOperator}/${alarm.TreatMissingData}`);
  }
  const periods = Math.floor(horizon / alarm.Period);
  const counts = new Array<number>(periods).fill(0);
  for (const t of invocations) {
    const n = Math.floor(t / alarm.Period);
    if (n >= 0 && n < periods) counts[n]! += 1;
  }
  // No datapoint (missing) breaches like a Sum below the threshold.
  const breaching = counts.map((c) => c === 0 || c < alarm.Threshold);
  const needed = alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods;
  const out: number[] = [];
  for (let n = alarm.EvaluationPeriods - 1; n < periods; n++) {
    const window = breaching.slice(n - alarm.EvaluationPeriods + 1, n + 1);
    if (window.filter(Boolean).length >= needed) out.push((n + 1) * alarm.Period);
  }
  return out;
}

/**
 * One period's value of a metric-math sum such as `t0 + t1` or `FILL(t0, 0) + FILL(t1, 0)`, given
 * the datapoints the period has (an id without one is missing). As in CloudWatch, arithmetic
 * over series has no value at a time where one operand has none; FILL supplies its value there.
 */
export function sumWithMissing(expression: string, datapoints: Readonly<Record<string, number>>): number | undefined {
  let sum = 0;
  for (const term of expression.split('+').map((t) => t.trim())) {
    const filled = /^FILL\((\w+),\s*(-?\d+(?:\.\d+)?)\)$/.exec(term);
    const bare = /^(\w+)$/.exec(term);
    if (filled) sum += datapoints[filled[1]!] ?? Number(filled[2]);
    else if (bare) {
      const v = datapoints[bare[1]!];
      if (v === undefined) return undefined;
      sum += v;
    } else throw new Error(`sumWithMissing: cannot read the term ${term} of ${expression}`);
  }
  return sum;
}
