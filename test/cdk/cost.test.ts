/**
 * The cost model over synthesized stacks: what a target adds a month stays within $1.00 at list
 * prices (its round trip and own secret included) at 1 and at 500 targets, and the fixed part
 * stays below what the stack cost before it scaled (b9fec99's README: $8.80 for one target,
 * $3.30 for each further one, so $5.50 fixed).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '#core/config.ts';
import { alarmMetricCount, costLines, costTotals } from '../../scripts/cost-model.ts';
import { fleetOf, priced } from '../../scripts/cost.ts';
import { exampleConfig } from './helpers.ts';

const FIXED_BEFORE = 8.8 - 3.3;

let example: Config;
let one: ReturnType<typeof priced>;
let many: ReturnType<typeof priced>;

beforeAll(async () => {
  example = await exampleConfig();
  one = priced(fleetOf(example, 1));
  many = priced(fleetOf(example, 500));
}, 120_000);

describe('cost model', () => {
  it('adds at most $1.00 a month per target, own secret and hourly round trip included, at 1 and 500 targets', () => {
    expect(one.totals.perTarget).toBeLessThanOrEqual(1.0);
    expect(many.totals.perTarget).toBeLessThanOrEqual(1.0);
    expect(one.totals.perTarget).toBeGreaterThan(0.5);
  });

  it('keeps the fixed part below the stack before scaling (plus the alert queue and its alarm), the same at 500 targets as at 1', () => {
    // The alert queue (issue 27): its pollers' empty receives and the dead-letter alarm's metric.
    const queue = one.lines.find((l) => l.item === 'SQS (alert queue)')!.fixed + 0.1;
    expect(one.totals.fixed).toBeLessThan(FIXED_BEFORE + queue);
    expect(many.totals.fixed).toBeCloseTo(one.totals.fixed, 2);
  });

  it('prices a round trip every round as the dearest line, which the hourly default avoids', async () => {
    // Prepare
    const everyRound = priced({ ...fleetOf(example, 1), roundTripSchedule: 'rate(5 minutes)' });
    // Act
    const ses = (p: ReturnType<typeof priced>) => p.lines.find((l) => l.item === 'SES inbound')!.perTarget;
    // Assess
    expect(ses(everyRound)).toBeCloseTo(12 * ses(one), 6);
    expect(everyRound.totals.perTarget - one.totals.perTarget).toBeGreaterThan(1.5);
  });

  it("prices the alert queue's polling as a fixed line, the same at 500 targets", () => {
    const queue = (p: ReturnType<typeof priced>) => p.lines.find((l) => l.item === 'SQS (alert queue)')!;
    expect(queue(one).fixed).toBeGreaterThan(0.2);
    expect(queue(one).fixed).toBeLessThan(0.5);
    expect(queue(many).fixed).toBeCloseTo(queue(one).fixed, 6);
    expect(queue(one).perTarget).toBe(0);
  });

  it('bills each metric a metric-math alarm reads, and one for a plain alarm', () => {
    expect(alarmMetricCount({ MetricName: 'Errors' })).toBe(1);
    expect(alarmMetricCount({ Metrics: [{ Expression: 't0 + t1' }, { MetricStat: {} }, { MetricStat: {} }] })).toBe(2);
    expect(alarmMetricCount({ Metrics: [{ Expression: 'SELECT SUM(Bounces) FROM MailHealth' }] })).toBe(1);
  });

  it('sums lines into fixed, per target and the month', () => {
    const lines = costLines({
      targets: 2,
      ownSecrets: 2,
      otherSecrets: 0,
      canarySchedules: 2,
      intervalMinutes: 5,
      roundTripMinutes: 60,
      sweepMinutes: 5,
      digestFlushMinutes: 5,
      memoryMb: { canary: 256, bounce: 512, sweeper: 128 },
      metricsPerTarget: 1,
      alarmMetrics: 0,
      dashboards: 0,
      kmsKeys: 0,
      polledQueues: 1,
    });
    const totals = costTotals(lines, 2);
    expect(totals.total).toBeCloseTo(totals.fixed + 2 * totals.perTarget, 10);
  });
});
